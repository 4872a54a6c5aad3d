import { ToneguardError } from '../../errors.js';
import { basicAuthorization, jsonRequest } from '../json-rest.js';
import type { PlivoSettings } from './settings.js';

export interface PlivoCallRequest {
  from: string;
  to: string;
  /** Our XML webhook for the new call. */
  answerUrl: string;
  hangupUrl?: string;
}

/** The parts of Plivo's Voice API Toneguard uses: placing the agent's call and ending calls. */
export interface PlivoRestClient {
  /** `POST /v1/Account/{auth_id}/Call/`; resolves to the `request_uuid` (the CallUUID comes with the answer webhook). */
  createCall(request: PlivoCallRequest): Promise<string>;
  /** `DELETE /v1/Account/{auth_id}/Call/{call_uuid}/`: a call that has already ended is fine. */
  hangupCall(callUuid: string): Promise<void>;
  /** `DELETE /v1/Account/{auth_id}/Request/{request_uuid}/`: an outbound call not answered yet. */
  cancelRequest(requestUuid: string): Promise<void>;
}

const UUID = /^[A-Za-z0-9-]{1,64}$/;

export function createPlivoRestClient(settings: Pick<PlivoSettings, 'authId' | 'authToken' | 'apiBaseUrl'>, timeoutMs = 10_000): PlivoRestClient {
  const base = `${settings.apiBaseUrl.replace(/\/$/, '')}/v1/Account/${encodeURIComponent(settings.authId)}`;
  const authorization = basicAuthorization(settings.authId, settings.authToken);
  const common = { provider: 'Plivo', authorization, timeoutMs };
  const remove = async (operation: string, path: string, id: string) => {
    if (!UUID.test(id)) throw new ToneguardError('provider_api_error', `Plivo REST ${operation}: not a Plivo id`, 400);
    await jsonRequest({ ...common, operation, method: 'DELETE', url: `${base}/${path}/${id}/`, alsoFine: [404] });
  };
  return {
    async createCall(request) {
      const answer = await jsonRequest({
        ...common,
        operation: 'Call',
        method: 'POST',
        url: `${base}/Call/`,
        body: {
          from: request.from,
          to: request.to,
          answer_url: request.answerUrl,
          answer_method: 'POST',
          ...(request.hangupUrl ? { hangup_url: request.hangupUrl, hangup_method: 'POST' } : {}),
        },
      });
      // One destination gives one request_uuid; Plivo answers with a list when `to` names several.
      const uuid = Array.isArray(answer?.request_uuid) ? (answer.request_uuid as unknown[])[0] : answer?.request_uuid;
      if (typeof uuid !== 'string' || !UUID.test(uuid)) throw new ToneguardError('provider_api_error', 'Plivo REST Call answered without a request_uuid', 502);
      return uuid;
    },
    hangupCall: (callUuid) => remove('hangup', 'Call', callUuid),
    cancelRequest: (requestUuid) => remove('cancel', 'Request', requestUuid),
  };
}
