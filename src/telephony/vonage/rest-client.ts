import { Auth } from '@vonage/auth';
import { Voice, type CallEndpoint } from '@vonage/voice';
import { ToneguardError } from '../../errors.js';
import type { VonageSettings } from './settings.js';

export interface PlaceAgentCallRequest {
  /** The agent: a number, `sip:…` or `app:{user}`. */
  to: string;
  /** The Vonage number the call comes from. */
  from: string;
  /** Our answer webhook for the agent leg (names the caller's call it belongs to). */
  answerUrl: string;
  eventUrl: string;
}

/** The parts of Vonage's Voice API Toneguard uses (a stand-in server answers them in tests). */
export interface VonageVoiceClient {
  /** Places the agent's call; resolves to its uuid. */
  createCall(request: PlaceAgentCallRequest): Promise<string>;
  hangup(uuid: string): Promise<void>;
}

/** `sip:…` → a SIP endpoint, `app:{user}` → a Client SDK user, anything else a phone number (digits only, as Vonage writes them). */
export function agentEndpoint(target: string): CallEndpoint {
  if (target.startsWith('sip:') || target.startsWith('sips:')) return { type: 'sip', uri: target };
  if (target.startsWith('app:')) return { type: 'app', user: target.slice(4) };
  return { type: 'phone', number: target.replace(/[^0-9]/g, '') };
}

/** A failed request names the operation and the status only (Vonage's error bodies may echo numbers). */
function apiError(operation: string, err: unknown): ToneguardError {
  const status = (err as { response?: { status?: unknown } } | undefined)?.response?.status;
  const answered = typeof status === 'number' ? `answered ${status}` : 'got no answer';
  return new ToneguardError('vonage_api_error', `Vonage Voice ${operation} ${answered}`, 502);
}

/**
 * Through the official SDK (`@vonage/voice`, JWT auth with the application's private key),
 * pointed at `apiBaseUrl`. The agent's call fetches its NCCO from our answer webhook, like the
 * caller's: the leg credential is issued only when the call Toneguard placed answers.
 */
export function createVonageVoiceClient(settings: Pick<VonageSettings, 'applicationId' | 'apiBaseUrl'>, privateKey: string, timeoutMs = 10_000): VonageVoiceClient {
  const voice = new Voice(new Auth({ applicationId: settings.applicationId, privateKey }), { apiHost: settings.apiBaseUrl.replace(/\/$/, ''), timeout: timeoutMs });
  return {
    async createCall(request) {
      let answer: { uuid?: unknown };
      try {
        answer = await voice.createOutboundCall({
          to: [agentEndpoint(request.to)],
          from: { type: 'phone', number: request.from.replace(/[^0-9]/g, '') },
          answerUrl: [request.answerUrl],
          answerMethod: 'GET',
          eventUrl: [request.eventUrl],
          eventMethod: 'POST',
        } as Parameters<Voice['createOutboundCall']>[0]);
      } catch (err) {
        throw apiError('create call', err);
      }
      if (typeof answer.uuid !== 'string' || answer.uuid === '') throw new ToneguardError('vonage_api_error', 'Vonage Voice create call answered without a uuid', 502);
      return answer.uuid;
    },
    async hangup(uuid) {
      try {
        await voice.hangupCall(uuid);
      } catch (err) {
        throw apiError('hangup', err);
      }
    },
  };
}
