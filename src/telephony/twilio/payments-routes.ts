import express, { Router, type RequestHandler } from 'express';
import type { Logger } from '../../audit/logger.js';
import { sendError } from '../../http/errors.js';
import type { TwilioPayDriver } from './payments-driver.js';
import { parsePaymentStatus } from './payments-status.js';

export const PAYMENTS_STATUS_PATH = '/twilio/status/payments';

export interface PaymentsStatusDeps {
  driver: TwilioPayDriver;
  /** The Twilio signature check (`twilioSignature` from `./signature.js`). */
  signature: RequestHandler;
  logger: Logger;
  bodyLimitBytes: number;
}

/**
 * `POST /twilio/status/payments`: Twilio's Payments API status callbacks (signed form posts).
 * Unknown payments are acknowledged and ignored so Twilio does not retry them.
 */
export function paymentsStatusRouter(deps: PaymentsStatusDeps): Router {
  const router = Router();
  router.post(PAYMENTS_STATUS_PATH, express.urlencoded({ extended: false, limit: deps.bodyLimitBytes }), deps.signature, async (req, res, next) => {
    const parsed = parsePaymentStatus((req.body ?? {}) as Record<string, unknown>);
    if (!parsed.ok) {
      sendError(res, 400, 'invalid_callback', parsed.message);
      return;
    }
    const { status } = parsed;
    try {
      const known = await deps.driver.onStatus(status);
      if (!known) deps.logger.info({ paymentSid: status.paymentSid }, 'status callback for an unknown payment ignored');
      res.status(204).end();
    } catch (err) {
      next(err);
    }
  });
  return router;
}
