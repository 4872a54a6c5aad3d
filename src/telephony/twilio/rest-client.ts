import type { Config } from '../../config/index.js';
import { ToneguardError } from '../../errors.js';
import type { AgentDialer } from '../provider.js';
import { publicUrlFor } from './signature.js';

type TwilioCredentials = Pick<Config['twilio'], 'accountSid' | 'authToken' | 'apiBaseUrl'>;

/**
 * One authenticated form POST to Twilio's REST API under the account
 * (`{apiBaseUrl}/2010-04-01/Accounts/{Sid}/{path}`). Resolves to the parsed JSON answer;
 * a non-2xx answer throws `twilio_api_error` (the status only, never the body's values).
 */
export async function twilioFormPost(
  credentials: TwilioCredentials,
  path: string,
  params: Record<string, string | undefined>,
  timeoutMs = 10_000,
): Promise<Record<string, unknown>> {
  const base = credentials.apiBaseUrl.replace(/\/$/, '');
  const url = `${base}/2010-04-01/Accounts/${encodeURIComponent(credentials.accountSid)}/${path}`;
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) body.append(name, value);
  const auth = Buffer.from(`${credentials.accountSid}:${credentials.authToken}`).toString('base64');
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Basic ${auth}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) {
    await response.body?.cancel();
    throw new ToneguardError('twilio_api_error', `Twilio REST ${path.split('/')[0]} answered ${response.status}`, 502);
  }
  return (await response.json()) as Record<string, unknown>;
}

export interface CreateCallRequest {
  to: string;
  from: string;
  /** Our TwiML webhook for the new leg. */
  url: string;
  statusCallback?: string;
}

export interface CreateMessageRequest {
  to: string;
  from: string;
  body: string;
}

/** Sends a text message (caller verification's one-time codes); resolves to its MessageSid. */
export interface TwilioMessagesClient {
  createMessage(request: CreateMessageRequest): Promise<string>;
}

/** The parts of Twilio's REST API the media bridge uses. */
export interface TwilioRestClient {
  /** Places an outbound call (the agent leg); resolves to its CallSid. */
  createCall(request: CreateCallRequest): Promise<string>;
}

export function createTwilioRestClient(config: { twilio: TwilioCredentials }): TwilioRestClient & TwilioMessagesClient {
  return {
    async createMessage(request) {
      // The body carries a one-time code: it is sent and never logged (errors name the status only).
      const answer = await twilioFormPost(config.twilio, 'Messages.json', { To: request.to, From: request.from, Body: request.body });
      if (typeof answer.sid !== 'string') throw new ToneguardError('twilio_api_error', 'Twilio REST Messages answered without a sid', 502);
      return answer.sid;
    },
    async createCall(request) {
      const answer = await twilioFormPost(config.twilio, 'Calls.json', {
        To: request.to,
        From: request.from,
        Url: request.url,
        Method: 'POST',
        StatusCallback: request.statusCallback,
        StatusCallbackMethod: request.statusCallback ? 'POST' : undefined,
        StatusCallbackEvent: request.statusCallback ? 'completed' : undefined,
      });
      if (typeof answer.sid !== 'string') throw new ToneguardError('twilio_api_error', 'Twilio REST Calls answered without a sid', 502);
      return answer.sid;
    },
  };
}

/** The agent's call as Twilio places it: its TwiML webhook names the customer call, its status callback reports the end. */
export function twilioAgentDialer(config: Pick<Config, 'twilio' | 'publicUrl'>, rest: TwilioRestClient, paths: { agent: string; callStatus: string }): AgentDialer {
  return {
    placeCall: ({ callerCallId, to }) =>
      rest.createCall({
        to: config.twilio.agentTarget,
        from: config.twilio.callerId ?? to ?? 'toneguard',
        url: publicUrlFor(config.publicUrl, `${paths.agent}?call=${callerCallId}`),
        statusCallback: publicUrlFor(config.publicUrl, paths.callStatus),
      }),
  };
}
