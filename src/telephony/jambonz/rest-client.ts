import { ToneguardError } from '../../errors.js';
import { jsonRequest } from '../json-rest.js';
import type { JambonzSettings } from './settings.js';

/** A jambonz call target (`to` of the create-call API). */
export type JambonzTarget = { type: 'phone'; number: string } | { type: 'sip'; sipUri: string } | { type: 'user'; name: string };

/** `sip:…` → a SIP URI, `user:{name}` → a registered user, anything else → a phone number. */
export function jambonzTarget(target: string): JambonzTarget {
  if (target.startsWith('sip:') || target.startsWith('sips:')) return { type: 'sip', sipUri: target };
  if (target.startsWith('user:')) return { type: 'user', name: target.slice('user:'.length) };
  return { type: 'phone', number: target };
}

export interface JambonzCallRequest {
  from: string;
  to: JambonzTarget;
  /** Our webhook answering the new call with its `listen`. */
  callHook: string;
  callStatusHook?: string;
}

/** The parts of the jambonz REST API Toneguard uses: placing the agent's call and ending calls. */
export interface JambonzRestClient {
  /** `POST /v1/Accounts/{account_sid}/Calls` → the new call's `sid`. */
  createCall(request: JambonzCallRequest): Promise<string>;
  /** `PUT /v1/Accounts/{account_sid}/Calls/{call_sid}` with `call_status: completed`; a call already gone is fine. */
  hangup(callSid: string): Promise<void>;
}

const SID = /^[A-Za-z0-9-]{1,64}$/;

export function createJambonzRestClient(settings: Pick<JambonzSettings, 'accountSid' | 'apiKey' | 'apiBaseUrl'>, timeoutMs = 10_000): JambonzRestClient {
  const base = `${settings.apiBaseUrl.replace(/\/$/, '')}/v1/Accounts/${encodeURIComponent(settings.accountSid)}/Calls`;
  const common = { provider: 'jambonz', authorization: `Bearer ${settings.apiKey}`, timeoutMs };
  return {
    async createCall(request) {
      const answer = await jsonRequest({
        ...common,
        operation: 'Calls',
        method: 'POST',
        url: base,
        body: {
          from: request.from,
          to: request.to,
          call_hook: { url: request.callHook, method: 'POST' },
          ...(request.callStatusHook ? { call_status_hook: { url: request.callStatusHook, method: 'POST' } } : {}),
        },
      });
      const sid = answer?.sid;
      if (typeof sid !== 'string' || !SID.test(sid)) throw new ToneguardError('provider_api_error', 'jambonz REST Calls answered without a sid', 502);
      return sid;
    },
    async hangup(callSid) {
      if (!SID.test(callSid)) throw new ToneguardError('provider_api_error', 'jambonz REST hangup: not a jambonz call sid', 400);
      await jsonRequest({ ...common, operation: 'hangup', method: 'PUT', url: `${base}/${callSid}`, body: { call_status: 'completed' }, alsoFine: [404] });
    },
  };
}
