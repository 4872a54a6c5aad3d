import type { Request } from 'express';
import type { MediaService, StreamCredentials } from '../media/index.js';
import type { HandledCalls } from './handled-calls.js';
import type { ProviderContext, TelephonyProvider } from './provider.js';

/** An inbound call as the provider's webhook reported it (already signature-checked and validated). */
export interface InboundCall {
  providerCallId: string;
  from?: string;
  to?: string;
  /** STIR/SHAKEN verification of the caller ID (`TN-Validation-Passed-A`, …), when the platform reports one. */
  stirVerstat?: string;
}

/** Why a signed voice webhook is answered with a hang-up. */
export type WebhookRefusal = 'already_handled' | 'agent_call_not_placed';

/**
 * What the provider answers a voice webhook with: a stream to Toneguard carrying `parameters`
 * (`leg`, `agent`, `credential`: write each into the call-control document so the platform
 * echoes it in the stream's start), or its hang-up document (the refusal is already audited).
 */
export type StreamAnswer = { ok: true; leg: 'caller' | 'agent'; parameters: Record<string, string> } | { ok: false; reason: WebhookRefusal };

/** The provider-neutral in-line call: every provider's webhooks drive one of these. */
export interface CallFlow {
  /** A new inbound call: answered once ever per platform call id; registers the call, issues the caller leg's credential and places the agent's call. */
  inbound(call: InboundCall, req: Request): Promise<StreamAnswer>;
  /** The agent's call answered: admitted only when it is the call Toneguard placed for `callerCallId` (from our own webhook URL). */
  agentAnswered(agentProviderCallId: string, callerCallId: string | undefined, req: Request): Promise<StreamAnswer>;
  /** The platform reports that a call (either leg) or its stream ended: both legs end. */
  ended(providerCallId: string, reason: string): void;
}

export interface CallFlowDeps {
  media: MediaService;
  /** Issues each leg's single-use stream credential. */
  credentials: StreamCredentials;
  handled: HandledCalls;
}

/**
 * The call flow behind every provider's voice webhooks. A webhook signature never proves
 * freshness (Twilio's has no timestamp at all), so each platform call id is answered once, ever:
 * a retried or replayed webhook gets a hang-up (the answer goes to whoever sent the request; the
 * live call, if any, is untouched). For each call the neutral id is the platform's id of the
 * caller's call, so the agent API's `/v1/calls/{id}` names the call the platform names.
 */
export function createCallFlow(ctx: ProviderContext, provider: Pick<TelephonyProvider, 'name' | 'dialer' | 'agentId'>, deps: CallFlowDeps): CallFlow {
  const { media, credentials, handled } = deps;
  const logger = ctx.logger.child({ module: 'call-flow', provider: provider.name });
  /** Agent calls being placed: the caller's call id → the agent call id the provider's REST API returns. */
  const placing = new Map<string, Promise<string | undefined>>();

  const dialAgent = (callId: string, call: InboundCall) => {
    const placed = provider.dialer
      .placeCall({ callerCallId: callId, from: call.from, to: call.to })
      .then((agentProviderCallId) => {
        ctx.calls.update(callId, { agentProviderCallId });
        return agentProviderCallId;
      })
      .catch((err: unknown) => {
        logger.error({ err, callId }, 'agent leg could not be placed');
        media.endCall(callId, 'agent_unreachable');
        return undefined;
      })
      .finally(() => placing.delete(callId));
    placing.set(callId, placed);
  };

  /** The agent call Toneguard placed for a live call, waiting for the REST answer if it is still due. */
  const placedAgentCall = async (callId: string): Promise<string | undefined> => {
    const call = ctx.calls.get(callId);
    if (!call || call.state === 'ended') return undefined;
    return call.agentProviderCallId ?? (await placing.get(callId));
  };

  const refuse = (req: Request, providerCallId: string, reason: WebhookRefusal): StreamAnswer => {
    const source = req.socket.remoteAddress;
    logger.warn({ route: req.path, callId: providerCallId, reason }, 'voice webhook refused');
    ctx.audit.record({
      action: `${provider.name}.webhook_refused`,
      actor: { type: 'telephony', id: provider.name, source },
      outcome: 'denied',
      resource: { type: 'call', id: providerCallId },
      source,
      details: { route: req.path, reason },
    });
    return { ok: false, reason };
  };

  return {
    async inbound(call, req) {
      const callId = call.providerCallId;
      if (!(await handled.claim(call.providerCallId))) return refuse(req, call.providerCallId, 'already_handled');
      ctx.calls.upsert({ callSid: callId, provider: provider.name, providerCallId: call.providerCallId, from: call.from, state: 'ringing', startedAt: new Date().toISOString() });
      ctx.verification.noteInboundCall(callId, call.stirVerstat);
      const credential = credentials.issue({ leg: 'caller', legCallId: call.providerCallId });
      dialAgent(callId, call);
      return { ok: true, leg: 'caller', parameters: { leg: 'caller', credential } };
    },

    async agentAnswered(agentProviderCallId, callerCallId, req) {
      const placed = callerCallId === undefined ? undefined : await placedAgentCall(callerCallId);
      if (placed !== agentProviderCallId) return refuse(req, agentProviderCallId, 'agent_call_not_placed');
      if (!(await handled.claim(agentProviderCallId))) return refuse(req, agentProviderCallId, 'already_handled');
      const agent = provider.agentId;
      const credential = credentials.issue({ leg: 'agent', legCallId: agentProviderCallId, agentId: agent });
      return { ok: true, leg: 'agent', parameters: { leg: 'agent', agent, credential } };
    },

    ended(providerCallId, reason) {
      media.endCall(providerCallId, reason);
    },
  };
}
