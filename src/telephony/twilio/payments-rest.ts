import type { Config } from '../../config/index.js';
import { ToneguardError } from '../../errors.js';
import { twilioFormPost } from './rest-client.js';

export type FormParams = Record<string, string>;

/** The slice of Twilio's REST API that Twilio Pay mode calls; tests point it at a local stand-in. */
export interface PaymentsClient {
  /** `POST Calls/{CallSid}/Payments.json`; resolves to the payment's Sid. */
  createPayment(callSid: string, params: FormParams): Promise<string>;
  /** `POST Calls/{CallSid}/Payments/{PaymentSid}.json`. */
  updatePayment(callSid: string, paymentSid: string, params: FormParams): Promise<void>;
}

/** The Payments API over the shared signed form-POST client on `config.twilio.apiBaseUrl`. */
export function createPaymentsRestClient(config: Pick<Config, 'twilio'>): PaymentsClient {
  const payments = (callSid: string) => `Calls/${encodeURIComponent(callSid)}/Payments`;
  return {
    async createPayment(callSid, params) {
      const answer = await twilioFormPost(config.twilio, `${payments(callSid)}.json`, params);
      if (typeof answer.sid !== 'string') throw new ToneguardError('twilio_api_error', 'Twilio REST Payments answered without a sid', 502);
      return answer.sid;
    },
    async updatePayment(callSid, paymentSid, params) {
      await twilioFormPost(config.twilio, `${payments(callSid)}/${encodeURIComponent(paymentSid)}.json`, params);
    },
  };
}
