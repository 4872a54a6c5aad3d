import express, { Router, type Request } from 'express';
import twilio from 'twilio';
import type { Logger } from '../../audit/logger.js';
import type { Metrics } from '../../audit/metrics.js';
import { sendError } from '../../http/errors.js';
import type { TwilioPayDriver } from './payments-driver.js';
import { parsePaymentStatus } from './payments-status.js';

export const PAYMENTS_STATUS_PATH = '/twilio/status/payments';

export interface PaymentsStatusDeps {
  driver: TwilioPayDriver;
  publicUrl: string;
  authToken: string;
  validateSignatures: boolean;
  logger: Logger;
  metrics?: Metrics;
  bodyLimitBytes: number;
}

/** The public URL Twilio signed: our configured public URL, never the request's Host header. */
export function signedUrl(publicUrl: string, req: Request): string {
  const query = req.originalUrl.indexOf('?');
  return `${publicUrl.replace(/\/$/, '')}${req.path}${query >= 0 ? req.originalUrl.slice(query) : ''}`;
}

/**
 * `POST /twilio/status/payments`: Twilio's Payments API status callbacks (signed form posts).
 * Unknown payments are acknowledged and ignored so Twilio does not retry them.
 */
export function paymentsStatusRouter(deps: PaymentsStatusDeps): Router {
  const router = Router();
  router.post(PAYMENTS_STATUS_PATH, express.urlencoded({ extended: false, limit: deps.bodyLimitBytes }), async (req, res, next) => {
    const params = (req.body ?? {}) as Record<string, string>;
    if (deps.validateSignatures) {
      const signature = req.get('x-twilio-signature');
      if (!signature || !deps.authToken || !twilio.validateRequest(deps.authToken, signature, signedUrl(deps.publicUrl, req), params)) {
        deps.metrics?.signatureFailures.inc({ route: PAYMENTS_STATUS_PATH });
        deps.logger.warn({ route: PAYMENTS_STATUS_PATH, signed: Boolean(signature) }, 'twilio signature refused');
        sendError(res, signature ? 403 : 400, 'invalid_signature', 'the X-Twilio-Signature header is missing or does not match');
        return;
      }
    }
    const status = parsePaymentStatus(params);
    if (!status) {
      sendError(res, 400, 'invalid_callback', 'the callback does not name a payment (Sid, CallSid)');
      return;
    }
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
