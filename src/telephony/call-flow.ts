import type { Request } from 'express';
import { isClusterMode } from '../config/cluster.js';
import type { Config } from '../config/index.js';
import { ToneguardError } from '../errors.js';
import type { LegRole, MediaService, StreamCredentials } from '../media/index.js';
import type { CallRecord } from '../state/calls.js';
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
export type WebhookRefusal = 'already_handled' | 'agent_call_not_placed' | 'no_live_node' | 'call_ended';

/** A media node as a call-control document names it. */
export interface MediaNode {
  id: string;
  /** Its public base URL: the stream URL is this plus the provider's media path. */
  url: string;
}

/**
 * What the provider answers a voice webhook with: a stream to the media node `media` carrying
 * `parameters` (`leg`, `agent`, `credential`, and `resume` after a failover: write each into the
 * call-control document so the platform echoes it in the stream's start), or its hang-up document
 * (a refusal is already audited). `reconnect` is set in cluster mode: the document asks the
 * platform to report the stream's end (Twilio's `<Connect action>`), naming the call, the leg and
 * the node, so that a stream cut by a node failure reconnects elsewhere.
 */
export type StreamAnswer =
  | { ok: true; leg: LegRole; parameters: Record<string, string>; media: MediaNode; reconnect?: ReconnectTarget }
  | { ok: false; reason: WebhookRefusal };

/** What a reconnect request names: the call (its neutral id), the leg and the node its stream went to. */
export interface ReconnectTarget {
  callId: string;
  leg: LegRole;
  node: string;
}

/** What to do with a leg whose stream ended while its call is still live. */
export type ReconnectDecision = { kind: 'hangup'; reason: 'node_alive' | 'no_live_node' } | { kind: 'stream'; node: MediaNode };

/** Where calls' media go: the one node, or (cluster mode) a live node the call is pinned to. */
export interface MediaPinning {
  /** True when answers carry a reconnect target (the platform then reports each stream's end). */
  readonly reconnects: boolean;
  /** Pins a new call to a live node; undefined when there is none. */
  pinNew(callId: string): Promise<MediaNode | undefined>;
  /** The live node the call is pinned to; undefined when it is not pinned or its node is gone. */
  pinnedNode(callId: string): Promise<MediaNode | undefined>;
  /**
   * A stream of the call, which went to `streamNode`, ended while the call is live: both legs
   * must end up on one node. Moved already (by the other leg) → that node; `streamNode` still
   * answers → hang up (the stream's end was the call's end); gone → an atomic move to a live node.
   */
  reconnect(callId: string, streamNode: string): Promise<ReconnectDecision>;
}

/** The base URL of this node's media sockets: its own URL in cluster mode, the service's public URL on a single node. */
export function ownMediaUrl(config: Pick<Config, 'cluster' | 'publicUrl'>): string {
  return isClusterMode(config) && config.cluster.nodeUrl ? config.cluster.nodeUrl : config.publicUrl;
}

/** Single-node mode: every stream goes to this service's public URL, and a dropped stream is the call's end. */
export function singleNodePinning(publicUrl: string): MediaPinning {
  const self: MediaNode = { id: 'local', url: publicUrl };
  return {
    reconnects: false,
    pinNew: async () => self,
    pinnedNode: async () => self,
    reconnect: async () => ({ kind: 'hangup', reason: 'node_alive' }),
  };
}

/** How long an agent webhook waits for the agent call id to appear (another node may still be awaiting the REST answer). */
export const AGENT_PLACEMENT_WAIT_MS = 5_000;
const AGENT_PLACEMENT_POLL_MS = 25;

/** The provider-neutral in-line call: every provider's webhooks drive one of these. */
export interface CallFlow {
  /** A new inbound call: answered once ever per platform call id; pins it to a live node, registers it, issues the caller leg's credential and places the agent's call. */
  inbound(call: InboundCall, req: Request): Promise<StreamAnswer>;
  /** The agent's call answered: admitted only when it is the call Toneguard placed for `callerCallId` (from our own webhook URL); streams to the call's node. */
  agentAnswered(agentProviderCallId: string, callerCallId: string | undefined, req: Request): Promise<StreamAnswer>;
  /** A leg's stream ended (the platform asks what next): hang up, or stream again to the node the call lives on now, with `resume`. */
  reconnect(target: ReconnectTarget, req: Request): Promise<StreamAnswer>;
  /** The platform reports that a call (either leg) ended: both legs end. */
  ended(providerCallId: string, reason: string): void;
  /**
   * The platform reports that a leg's stream ended. On a single node both legs end; in cluster
   * mode the reconnect request decides (a node failure cuts streams of calls that go on).
   */
  streamEnded(providerCallId: string): void;
}

export interface CallFlowDeps {
  media: MediaService;
  /** Issues each leg's single-use stream credential. */
  credentials: StreamCredentials;
  handled: HandledCalls;
  /** Single-node unless given. */
  pinning?: MediaPinning;
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
  const pinning = deps.pinning ?? singleNodePinning(ctx.config.publicUrl);
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

  /**
   * The agent call Toneguard placed for a live call, waiting for the REST answer if it is still due:
   * here (`placing`), or (cluster mode) on the node that took the inbound webhook, which writes it
   * into the shared call record (the agent's webhook may reach this node before that node has its answer).
   */
  const placedAgentCall = async (callId: string): Promise<string | undefined> => {
    if (!pinning.reconnects) {
      const call = ctx.calls.get(callId);
      if (!call || call.state === 'ended') return undefined;
      return call.agentProviderCallId ?? (await placing.get(callId));
    }
    const deadline = Date.now() + AGENT_PLACEMENT_WAIT_MS;
    for (;;) {
      const call = ctx.calls.get(callId);
      if (call?.state === 'ended') return undefined;
      if (call?.agentProviderCallId) return call.agentProviderCallId;
      const local = placing.get(callId);
      if (local) return await local;
      if (Date.now() >= deadline) return undefined;
      await new Promise((resolve) => setTimeout(resolve, AGENT_PLACEMENT_POLL_MS));
    }
  };

  const stream = (leg: LegRole, parameters: Record<string, string>, node: MediaNode, callId: string): StreamAnswer => ({
    ok: true,
    leg,
    parameters,
    media: node,
    ...(pinning.reconnects ? { reconnect: { callId, leg, node: node.id } } : {}),
  });

  /** The credential of a leg of a registered call, bound as the leg's first stream's was. */
  const legCredential = (leg: LegRole, call: CallRecord): Record<string, string> | undefined => {
    if (leg === 'caller') return { leg, credential: credentials.issue({ leg, legCallId: call.providerCallId ?? call.callSid }) };
    if (!call.agentProviderCallId) return undefined;
    const agent = provider.agentId;
    return { leg, agent, credential: credentials.issue({ leg, legCallId: call.agentProviderCallId, agentId: agent }) };
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
      // No live node (this one has lost Redis, say): 503 before anything is claimed, so the platform's fallback takes the call.
      const node = await pinning.pinNew(callId);
      if (!node) throw new ToneguardError('no_live_node', 'No media node can take the call now', 503);
      if (!(await handled.claim(call.providerCallId))) return refuse(req, call.providerCallId, 'already_handled');
      ctx.calls.upsert({
        callSid: callId,
        provider: provider.name,
        providerCallId: call.providerCallId,
        from: call.from,
        state: 'ringing',
        startedAt: new Date().toISOString(),
        ...(pinning.reconnects ? { node: node.id } : {}),
      });
      ctx.verification.noteInboundCall(callId, call.stirVerstat);
      const credential = credentials.issue({ leg: 'caller', legCallId: call.providerCallId });
      dialAgent(callId, call);
      return stream('caller', { leg: 'caller', credential }, node, callId);
    },

    async agentAnswered(agentProviderCallId, callerCallId, req) {
      const placed = callerCallId === undefined ? undefined : await placedAgentCall(callerCallId);
      if (callerCallId === undefined || placed !== agentProviderCallId) return refuse(req, agentProviderCallId, 'agent_call_not_placed');
      if (!(await handled.claim(agentProviderCallId))) return refuse(req, agentProviderCallId, 'already_handled');
      const node = await pinning.pinnedNode(callerCallId);
      if (!node) return refuse(req, agentProviderCallId, 'no_live_node');
      const agent = provider.agentId;
      const credential = credentials.issue({ leg: 'agent', legCallId: agentProviderCallId, agentId: agent });
      return stream('agent', { leg: 'agent', agent, credential }, node, callerCallId);
    },

    async reconnect(target, req) {
      const call = ctx.calls.get(target.callId);
      if (!call || call.state === 'ended') return { ok: false, reason: 'call_ended' };
      const decision = await pinning.reconnect(target.callId, target.node);
      if (decision.kind === 'hangup') {
        logger.info({ callId: target.callId, leg: target.leg, reason: decision.reason }, 'stream ended; the leg hangs up');
        return decision.reason === 'no_live_node' ? refuse(req, target.callId, 'no_live_node') : { ok: false, reason: 'call_ended' };
      }
      const parameters = legCredential(target.leg, call);
      if (!parameters) return refuse(req, target.callId, 'agent_call_not_placed');
      logger.info({ callId: target.callId, leg: target.leg, from: target.node, to: decision.node.id }, 'leg reconnects');
      return stream(target.leg, { ...parameters, resume: '1' }, decision.node, target.callId);
    },

    ended(providerCallId, reason) {
      media.endCall(providerCallId, reason);
    },

    streamEnded(providerCallId) {
      if (!pinning.reconnects) media.endCall(providerCallId, 'stream_stopped');
    },
  };
}
