import { ToneguardError } from '../../errors.js';

export type FormParams = Record<string, string>;

/** The slice of Twilio's REST API that Twilio Pay mode calls; tests point it at a local stand-in. */
export interface PaymentsClient {
  /** `POST Calls/{CallSid}/Payments.json`; resolves to the payment's Sid. */
  createPayment(callSid: string, params: FormParams): Promise<string>;
  /** `POST Calls/{CallSid}/Payments/{PaymentSid}.json`. */
  updatePayment(callSid: string, paymentSid: string, params: FormParams): Promise<void>;
}

export interface TwilioRestSettings {
  apiBaseUrl: string;
  accountSid: string;
  authToken: string;
  timeoutMs?: number;
}

/**
 * A minimal form-POST client on `config.twilio.apiBaseUrl` with HTTP Basic auth. Errors carry
 * Twilio's status and error code, never the parameters sent.
 */
export function createPaymentsRestClient(settings: TwilioRestSettings): PaymentsClient {
  const base = `${settings.apiBaseUrl.replace(/\/$/, '')}/2010-04-01/Accounts/${encodeURIComponent(settings.accountSid)}/Calls`;
  const authorization = `Basic ${Buffer.from(`${settings.accountSid}:${settings.authToken}`).toString('base64')}`;

  async function post(path: string, params: FormParams): Promise<Record<string, unknown>> {
    let response: Response;
    try {
      response = await fetch(`${base}/${path}`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams(params).toString(),
        signal: AbortSignal.timeout(settings.timeoutMs ?? 10_000),
      });
    } catch (err) {
      throw new ToneguardError('twilio_unreachable', 'the Twilio REST API could not be reached', 502, { cause: err });
    }
    const body = ((await response.json().catch(() => ({}))) ?? {}) as Record<string, unknown>;
    if (!response.ok) {
      const code = typeof body.code === 'number' || typeof body.code === 'string' ? ` (Twilio error ${body.code})` : '';
      throw new ToneguardError('twilio_rejected', `Twilio answered HTTP ${response.status}${code}`, 502);
    }
    return body;
  }

  return {
    async createPayment(callSid, params) {
      const body = await post(`${encodeURIComponent(callSid)}/Payments.json`, params);
      if (typeof body.sid !== 'string') throw new ToneguardError('twilio_rejected', 'Twilio did not return a payment Sid', 502);
      return body.sid;
    },
    async updatePayment(callSid, paymentSid, params) {
      await post(`${encodeURIComponent(callSid)}/Payments/${encodeURIComponent(paymentSid)}.json`, params);
    },
  };
}
