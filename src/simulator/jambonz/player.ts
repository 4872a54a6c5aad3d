import { randomBytes, randomUUID } from 'node:crypto';
import type { Config } from '../../config/index.js';
import { JAMBONZ_PATHS } from '../../telephony/jambonz/index.js';
import { startJsonRestStandIn, type JsonRestStandIn } from '../json-rest-stand-in.js';
import { TwoLegCall } from '../two-leg-call.js';
import type { DialRequest, PlayerKit, PlayerStandIn, ProviderPlayer } from '../player.js';
import { SIMULATED_CALLER } from '../twilio/call.js';
import { JambonzStreamClient } from './stream-client.js';
import { parseListen, postJambonzWebhook, type JambonzTarget } from './webhooks.js';

const fail = (step: string, detail: string) => new Error(`simulated jambonz call: ${step} failed (${detail})`);

/** The jambonz REST API as far as Toneguard uses it: `Calls` creates (a fresh sid), `PUT` updates. */
export function startJambonzRestStandIn(port?: number): Promise<JsonRestStandIn> {
  return startJsonRestStandIn((request) => {
    if (request.method === 'POST' && /^\/v1\/Accounts\/[^/]+\/Calls$/.test(request.path)) return { status: 201, body: { sid: randomUUID() } };
    if (request.method === 'PUT' && /^\/v1\/Accounts\/[^/]+\/Calls\/[^/]+$/.test(request.path)) return { status: 202 };
    return undefined;
  }, port);
}

interface JambonzCallOptions extends DialRequest {
  target: JambonzTarget;
  accountSid: string;
  standIn: JsonRestStandIn;
}

/** One call played from jambonz's side: the signed call hook, the caller's listen, the agent call placed through the stand-in, and its listen. */
class JambonzCall extends TwoLegCall {
  private constructor(
    readonly callId: string,
    readonly agentCallId: string,
    readonly caller: JambonzStreamClient,
    readonly agent: JambonzStreamClient,
    private readonly options: JambonzCallOptions,
  ) {
    super();
  }

  static async dial(options: JambonzCallOptions): Promise<JambonzCall> {
    const callSid = randomUUID();
    const from = options.from ?? SIMULATED_CALLER;
    const to = options.to ?? '+15005550001';
    const inbound = await postJambonzWebhook(options.target, JAMBONZ_PATHS.inbound, { call_sid: callSid, account_sid: options.accountSid, direction: 'inbound', from, to, call_status: 'trying' });
    const callerListen = inbound.status === 200 ? parseListen(inbound.body) : undefined;
    if (!callerListen) throw fail('call hook', `status ${inbound.status}`);
    const caller = await JambonzStreamClient.open(options.target, { callSid, from, to, direction: 'inbound', accountSid: options.accountSid, listen: callerListen });

    const placed = await options.standIn
      .waitFor((r) => r.method === 'POST' && String((r.body as { call_hook?: { url?: string } } | undefined)?.call_hook?.url).endsWith(`call=${callSid}`), options.agentTimeoutMs)
      .catch(() => {
        throw fail('agent call', 'no Calls create reached the REST stand-in');
      });
    const hook = (placed.request.body as { call_hook: { url: string } }).call_hook.url;
    const agentSid = (placed.answer.body as { sid: string }).sid;
    const answer = await postJambonzWebhook(options.target, hook, { call_sid: agentSid, account_sid: options.accountSid, direction: 'outbound', from: to, to: 'agent', call_status: 'in-progress' });
    const agentListen = answer.status === 200 ? parseListen(answer.body) : undefined;
    if (!agentListen) throw fail('agent call hook', `status ${answer.status}`);
    const agent = await JambonzStreamClient.open(options.target, { callSid: agentSid, from: to, to: 'agent', direction: 'outbound', accountSid: options.accountSid, listen: agentListen });
    return new JambonzCall(callSid, agentSid, caller, agent, options);
  }

  /** Both listens close and the call status hook reports the caller's call completed. */
  protected async reportHangUp(): Promise<void> {
    await postJambonzWebhook(this.options.target, JAMBONZ_PATHS.callStatus, { call_sid: this.callId, account_sid: this.options.accountSid, call_status: 'completed' });
  }
}

export function jambonzPlayer(target: JambonzTarget, accountSid: string, standIn: JsonRestStandIn): ProviderPlayer {
  return { name: 'jambonz', dial: (request = {}) => JambonzCall.dial({ target, accountSid, standIn, ...request }) };
}

function jambonzPlayerStandIn(standIn: JsonRestStandIn): PlayerStandIn {
  return {
    url: standIn.url,
    demoSettings: () => ({
      jambonz: { accountSid: randomUUID(), apiKey: randomBytes(16).toString('hex'), apiBaseUrl: standIn.url, webhookSecret: randomBytes(24).toString('base64url'), agentTarget: 'user:demo-agent', agentId: 'demo-agent' },
    }),
    player: ({ baseUrl, config }) => jambonzPlayer({ baseUrl, publicUrl: config.publicUrl, webhookSecret: config.jambonz.webhookSecret }, config.jambonz.accountSid, standIn),
    close: () => standIn.close(),
  };
}

/** jambonz: `Jambonz-Signature`, the `listen` socket (binary L16), the REST API on a local stand-in. */
export const jambonzKit: PlayerKit = {
  name: 'jambonz',
  startStandIn: async (port) => jambonzPlayerStandIn(await startJambonzRestStandIn(port)),
  apiBaseUrl: (config: Config) => config.jambonz.apiBaseUrl,
  apiBaseVariable: 'JAMBONZ_API_BASE_URL',
  configured: (config: Config) => config.jambonz.accountSid !== '' && config.jambonz.apiKey !== '' && config.jambonz.webhookSecret !== '',
  agentId: (config: Config) => config.jambonz.agentId,
};
