import { randomBytes, randomUUID } from 'node:crypto';
import type { Config } from '../../config/index.js';
import { PLIVO_PATHS } from '../../telephony/plivo/index.js';
import { startJsonRestStandIn, type JsonRestStandIn } from '../json-rest-stand-in.js';
import { TwoLegCall } from '../two-leg-call.js';
import type { DialRequest, PlayerKit, PlayerStandIn, ProviderPlayer } from '../player.js';
import { SIMULATED_CALLER } from '../twilio/call.js';
import { PlivoStreamClient } from './stream-client.js';
import { parseStreamXml, postPlivoWebhook, type PlivoTarget } from './webhooks.js';

const fail = (step: string, detail: string) => new Error(`simulated Plivo call: ${step} failed (${detail})`);

/** Plivo's Voice API as far as Toneguard uses it: `Call/` creates (a fresh request_uuid), `DELETE`s end. */
export function startPlivoRestStandIn(port?: number): Promise<JsonRestStandIn> {
  return startJsonRestStandIn((request) => {
    if (request.method === 'POST' && /^\/v1\/Account\/[^/]+\/Call\/$/.test(request.path)) return { status: 201, body: { api_id: randomUUID(), message: 'call fired', request_uuid: randomUUID() } };
    if (request.method === 'DELETE' && /^\/v1\/Account\/[^/]+\/(Call|Request)\/[^/]+\/$/.test(request.path)) return { status: 204 };
    return undefined;
  }, port);
}

interface PlivoCallOptions extends DialRequest {
  target: PlivoTarget;
  authId: string;
  standIn: JsonRestStandIn;
}

/** One call played from Plivo's side: the signed answer URL, the caller's stream, the agent call placed through the stand-in, and its stream. */
class PlivoCall extends TwoLegCall {
  private constructor(
    readonly callId: string,
    readonly agentCallId: string,
    readonly caller: PlivoStreamClient,
    readonly agent: PlivoStreamClient,
    private readonly target: PlivoTarget,
  ) {
    super();
  }

  static async dial(options: PlivoCallOptions): Promise<PlivoCall> {
    const callUuid = randomUUID();
    const inbound = await postPlivoWebhook(options.target, PLIVO_PATHS.inbound, {
      CallUUID: callUuid,
      From: options.from ?? SIMULATED_CALLER,
      To: options.to ?? '+15005550001',
      Direction: 'inbound',
      CallStatus: 'ringing',
    });
    const callerStream = inbound.status === 200 ? parseStreamXml(inbound.body) : undefined;
    if (!callerStream) throw fail('answer URL', `status ${inbound.status}`);
    const caller = await PlivoStreamClient.open(options.target, { callId: callUuid, authId: options.authId, instruction: callerStream });

    const placed = await options.standIn
      .waitFor((r) => r.method === 'POST' && String((r.body as { answer_url?: string } | undefined)?.answer_url).endsWith(`call=${callUuid}`), options.agentTimeoutMs)
      .catch(() => {
        throw fail('agent call', 'no Call create reached the REST stand-in');
      });
    const answerUrl = (placed.request.body as { answer_url: string }).answer_url;
    const requestUuid = (placed.answer.body as { request_uuid: string }).request_uuid;
    const agentCallUuid = randomUUID();
    const answer = await postPlivoWebhook(options.target, answerUrl, { CallUUID: agentCallUuid, RequestUUID: requestUuid, ALegRequestUUID: requestUuid, Direction: 'outbound', CallStatus: 'in-progress' });
    const agentStream = answer.status === 200 ? parseStreamXml(answer.body) : undefined;
    if (!agentStream) throw fail('agent answer URL', `status ${answer.status}`);
    const agent = await PlivoStreamClient.open(options.target, { callId: agentCallUuid, authId: options.authId, instruction: agentStream });
    return new PlivoCall(callUuid, requestUuid, caller, agent, options.target);
  }

  /** Both streams close and the hang-up URL reports the caller's call completed. */
  protected async reportHangUp(): Promise<void> {
    await postPlivoWebhook(this.target, PLIVO_PATHS.hangup, { CallUUID: this.callId, CallStatus: 'completed', HangupCause: 'NORMAL_CLEARING' });
  }
}

export function plivoPlayer(target: PlivoTarget, authId: string, standIn: JsonRestStandIn): ProviderPlayer {
  return { name: 'plivo', dial: (request = {}) => PlivoCall.dial({ target, authId, standIn, ...request }) };
}

function plivoPlayerStandIn(standIn: JsonRestStandIn): PlayerStandIn {
  return {
    url: standIn.url,
    demoSettings: () => ({
      plivo: { authId: `MA${randomBytes(9).toString('hex').toUpperCase()}`, authToken: randomBytes(20).toString('base64url'), apiBaseUrl: standIn.url, agentTarget: 'sip:demo-agent@phone.plivo.com', agentId: 'demo-agent' },
    }),
    player: ({ baseUrl, config }) => plivoPlayer({ baseUrl, publicUrl: config.publicUrl, authToken: config.plivo.authToken }, config.plivo.authId, standIn),
    close: () => standIn.close(),
  };
}

/** Plivo: `X-Plivo-Signature-V3`, the `<Stream>` audio protocol, the Call API on a local stand-in. */
export const plivoKit: PlayerKit = {
  name: 'plivo',
  startStandIn: async (port) => plivoPlayerStandIn(await startPlivoRestStandIn(port)),
  apiBaseUrl: (config: Config) => config.plivo.apiBaseUrl,
  apiBaseVariable: 'PLIVO_API_BASE_URL',
  configured: (config: Config) => config.plivo.authId !== '' && config.plivo.authToken !== '',
  agentId: (config: Config) => config.plivo.agentId,
};
