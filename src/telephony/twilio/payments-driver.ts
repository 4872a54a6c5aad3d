import { randomUUID } from 'node:crypto';
import type { Logger } from '../../audit/logger.js';
import type { CaptureModeDriver, ExternalCaptureHandle, StartCaptureRequest } from '../../capture/types.js';
import { ToneguardError } from '../../errors.js';
import type { FormParams, PaymentsClient } from './payments-rest.js';
import {
  PAYMENT_CAPTURE_FOR_KIND,
  brandOf,
  errorCodeOf,
  fieldPatch,
  isPaymentKind,
  readMask,
  type PaymentKind,
  type PaymentStatus,
} from './payments-status.js';

export interface TwilioPayDriverOptions {
  client: PaymentsClient;
  /** `{publicUrl}/twilio/status/payments`. */
  statusCallbackUrl: string;
  /** The Pay Connector configured in the Twilio console (ours: a Generic Pay Connector pointing at `/connectors/twilio-pay`). */
  paymentConnector: string;
  maxAttempts: number;
  logger: Logger;
}

interface PaymentSession {
  paymentSid: string;
  handle: ExternalCaptureHandle;
  fields: { name: string; kind: PaymentKind }[];
  complete: Set<string>;
  attempts: Map<string, number>;
  maxAttempts: number;
  /** Twilio's own list of what it still needs (it may need more than the agent asked for, e.g. the expiry). */
  required: string[] | null;
  finishing: boolean;
}

const ACH_KINDS: readonly PaymentKind[] = ['routing_number', 'account_number'];

/**
 * Twilio Pay mode: Twilio's Payments API collects and masks the digits; this driver creates the
 * payment, asks for each field in turn, completes it, and turns status callbacks into the same
 * field views as an in-line capture. Every REST request carries a fresh idempotency key.
 */
export class TwilioPayDriver implements CaptureModeDriver {
  private readonly byPayment = new Map<string, PaymentSession>();
  private readonly byCapture = new Map<string, PaymentSession>();
  /** Captures cancelled while their payment was still being created. */
  private readonly cancelledWhileStarting = new Set<string>();

  constructor(private readonly options: TwilioPayDriverOptions) {}

  async start(handle: ExternalCaptureHandle, request: StartCaptureRequest): Promise<void> {
    const fields = handle.fields.map((f) => {
      if (!isPaymentKind(f.kind)) throw new ToneguardError('unsupported_field', `Twilio Pay cannot capture ${f.name}`, 422);
      return { name: f.name, kind: f.kind };
    });
    const ach = fields.some((f) => ACH_KINDS.includes(f.kind));
    const has = (kind: PaymentKind) => fields.some((f) => f.kind === kind);
    const paymentSid = await this.options.client.createPayment(handle.callSid, {
      ...this.common(),
      PaymentConnector: this.options.paymentConnector,
      PaymentMethod: ach ? 'ach-debit' : 'credit-card',
      TokenType: 'reusable',
      ChargeAmount: '0',
      Input: 'dtmf',
      ...(ach ? {} : { SecurityCode: String(has('cvv')), PostalCode: String(has('postal_code')) }),
    });
    const session: PaymentSession = {
      paymentSid,
      handle,
      fields,
      complete: new Set(),
      attempts: new Map(),
      maxAttempts: request.options?.maxAttempts ?? this.options.maxAttempts,
      required: null,
      finishing: false,
    };
    if (this.cancelledWhileStarting.delete(handle.captureId)) {
      await this.options.client.updatePayment(handle.callSid, paymentSid, { ...this.common(), Status: 'cancel' });
      return;
    }
    this.byPayment.set(paymentSid, session);
    this.byCapture.set(handle.captureId, session);
    await this.next(session);
  }

  async resetField(handle: ExternalCaptureHandle, field: string): Promise<void> {
    const session = this.session(handle);
    session.complete.delete(field);
    session.attempts.delete(field);
    const target = session.fields.find((f) => f.name === field);
    if (target) await this.capture(session, target);
  }

  async cancel(handle: ExternalCaptureHandle, _reason: string): Promise<void> {
    const session = this.byCapture.get(handle.captureId);
    if (!session) {
      this.cancelledWhileStarting.add(handle.captureId);
      return;
    }
    this.forget(session);
    await this.options.client.updatePayment(handle.callSid, session.paymentSid, { ...this.common(), Status: 'cancel' });
  }

  /** Applies one signed status callback. Returns false when it names no payment of ours. */
  async onStatus(status: PaymentStatus): Promise<boolean> {
    const session = this.byPayment.get(status.paymentSid);
    if (!session || session.handle.callSid !== status.callSid) return false;
    if (status.required !== null) session.required = status.required;
    if (status.result !== null) {
      this.finish(session, status);
      return true;
    }
    for (const field of session.fields) {
      const patch = fieldPatch(field.kind, status);
      // Later callbacks repeat finished fields; only changes become new views.
      const repeated = patch.state === 'complete' && session.complete.has(field.name);
      if (Object.keys(patch).length === 0 || repeated) continue;
      if (patch.state === 'invalid') {
        const attempts = (session.attempts.get(field.name) ?? 0) + 1;
        session.attempts.set(field.name, attempts);
        session.handle.updateField(field.name, { ...patch, attempts });
        await this.afterInvalid(session, field, attempts);
        return true;
      }
      if (patch.state === 'complete') session.complete.add(field.name);
      session.handle.updateField(field.name, patch);
    }
    // Move on once Twilio no longer needs the capture it was doing.
    const finished = status.capture !== null && !status.partial && status.required !== null && !status.required.includes(status.capture);
    if (finished) await this.next(session);
    return true;
  }

  private async afterInvalid(session: PaymentSession, field: { name: string; kind: PaymentKind }, attempts: number): Promise<void> {
    if (attempts < session.maxAttempts) {
      await this.capture(session, field);
      return;
    }
    this.forget(session);
    session.handle.fail('too_many_attempts', `${field.name} was refused ${attempts} times`);
    await this.options.client.updatePayment(session.handle.callSid, session.paymentSid, { ...this.common(), Status: 'cancel' });
  }

  /** Asks for the next field still open; when none is, completes the payment (Twilio then calls the connector). */
  private async next(session: PaymentSession): Promise<void> {
    if (session.finishing) return;
    const open = session.fields.find((f) => !session.complete.has(f.name));
    if (open) return this.capture(session, open);
    const ours = new Set<string>(session.fields.map((f) => PAYMENT_CAPTURE_FOR_KIND[f.kind]));
    const extra = session.required?.find((capture) => !ours.has(capture));
    if (extra) {
      session.handle.setCurrentField(null);
      await this.update(session, { Capture: extra });
      return;
    }
    session.finishing = true;
    session.handle.setCurrentField(null);
    await this.update(session, { Status: 'complete' });
  }

  private async capture(session: PaymentSession, field: { name: string; kind: PaymentKind }): Promise<void> {
    session.handle.setCurrentField(field.name);
    session.handle.updateField(field.name, { state: 'capturing', digitCount: 0, valid: null, error: null });
    await this.update(session, { Capture: PAYMENT_CAPTURE_FOR_KIND[field.kind] });
  }

  private finish(session: PaymentSession, status: PaymentStatus): void {
    this.forget(session);
    if (status.result === 'success' && status.paymentToken) {
      const isCard = session.fields.some((f) => f.kind === 'card_number');
      const last4 = readMask(status.shown.card_number ?? '').trailingDigits.slice(-4);
      session.handle.complete({
        token: status.paymentToken,
        ...(isCard && status.cardType ? { brand: brandOf(status.cardType) } : {}),
        ...(isCard && last4.length === 4 ? { last4 } : {}),
      });
      return;
    }
    const code = errorCodeOf(status.result ?? 'internal-error');
    this.options.logger.warn({ paymentSid: session.paymentSid, result: code }, 'twilio payment did not succeed');
    session.handle.fail(code === 'success' ? 'payment_token_missing' : code, `Twilio Pay ended with ${code}`);
  }

  private async update(session: PaymentSession, params: FormParams): Promise<void> {
    await this.options.client.updatePayment(session.handle.callSid, session.paymentSid, { ...this.common(), ...params });
  }

  /** Twilio requires a unique IdempotencyKey per request: never reuse one. */
  private common(): FormParams {
    return { IdempotencyKey: randomUUID(), StatusCallback: this.options.statusCallbackUrl };
  }

  private session(handle: ExternalCaptureHandle): PaymentSession {
    const session = this.byCapture.get(handle.captureId);
    if (!session) throw new ToneguardError('capture_not_active', `Capture ${handle.captureId} has no Twilio payment`, 409);
    return session;
  }

  private forget(session: PaymentSession): void {
    this.byPayment.delete(session.paymentSid);
    this.byCapture.delete(session.handle.captureId);
  }
}
