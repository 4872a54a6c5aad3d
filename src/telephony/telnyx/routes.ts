import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { Config } from '../../config/index.js';
import type { CallRegistry } from '../../state/calls.js';
import type { CallFlow, MediaNode } from '../call-flow.js';
import { mediaPath } from '../provider.js';
import { signatureRefused, type SignatureContext } from '../signature-check.js';
import type { StreamingStartOptions } from './commands.js';
import type { TelnyxCallControl } from './rest-client.js';
import { verifyTelnyxSignature } from './signature.js';
import { telnyxStreamUrl, type TelnyxStreamTokens } from './stream-token.js';
import { ENDING_EVENTS, parseTelnyxWebhook, type TelnyxCallEvent } from './webhook.js';

/** The Call Control application's webhook URL: every event of every call lands here. */
export const TELNYX_WEBHOOK_PATH = '/telnyx/voice/events';
/** Caller legs answered but not yet streaming are forgotten after this (an answer that never comes). */
const PENDING_TTL_MS = 60_000;
const MAX_PENDING = 10_000;

export type TelnyxRouteContext = SignatureContext & { config: Pick<Config, 'telnyx' | 'http'>; calls: CallRegistry };

export interface TelnyxRouteDeps {
  rest: TelnyxCallControl;
  tokens: TelnyxStreamTokens;
  nowSeconds?: () => number;
}

const callerState = z.object({
  toneguard: z.literal('caller'),
  media: z.object({ id: z.string().min(1).max(200), url: z.string().url().max(2000) }),
  parameters: z.record(z.string(), z.string().max(2000)),
});

/** The caller leg Toneguard answered (on any node of its cluster) carries its stream's node and parameters in `client_state`. */
function callerOf(event: TelnyxCallEvent): { parameters: Record<string, string>; media: MediaNode } | undefined {
  const state = callerState.safeParse(event.clientState);
  return state.success ? { parameters: state.data.parameters, media: state.data.media } : undefined;
}

/** The agent call Toneguard dialled names its caller's call in `client_state`. */
function agentOf(event: TelnyxCallEvent): string | undefined {
  const state = event.clientState as { toneguard?: unknown; call?: unknown } | undefined;
  return state?.toneguard === 'agent' && typeof state.call === 'string' ? state.call : undefined;
}

/**
 * Telnyx's Call Control webhooks on the neutral call flow. Call Control has no document to answer
 * with: Toneguard answers a new inbound call with the `answer` command, and once a leg is answered
 * (the caller's, or the agent call it dialled) starts that leg's bidirectional stream with
 * `streaming_start`, carrying the flow's parameters. When either leg ends, both are hung up. Every
 * request must carry a valid Ed25519 signature within the replay window.
 */
export function telnyxVoiceRouter(ctx: TelnyxRouteContext, flow: CallFlow, deps: TelnyxRouteDeps): Router {
  const router = Router();
  const logger = ctx.logger.child({ module: 'telnyx-voice' });
  const settings = ctx.config.telnyx;
  const now = deps.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  const raw = express.text({ type: () => true, limit: ctx.config.http.bodyLimitBytes });
  /** Caller legs answered by Toneguard, waiting for `call.answered` to start their stream on the node the flow picked. */
  const pending = new Map<string, { parameters: Record<string, string>; media: MediaNode; at: number }>();

  const signed: RequestHandler = (req, res, next) => {
    const body = typeof req.body === 'string' ? req.body : '';
    void verifyTelnyxSignature(body, req.headers, { publicKey: settings.publicKey, toleranceSeconds: settings.timestampToleranceSeconds, nowSeconds: now() }).then((check) => {
      if (check.ok) return next();
      signatureRefused(ctx, 'telnyx', TELNYX_WEBHOOK_PATH, req.socket.remoteAddress, check.reason === 'missing' ? 'missing' : 'invalid');
      res.status(403).json({ error: { code: 'signature_invalid', message: 'Missing or invalid Telnyx signature' } });
    });
  };

  const command = (what: string, callControlId: string, run: () => Promise<void>) =>
    run().catch((err: unknown) => {
      logger.warn({ err, callId: callControlId, command: what }, 'telnyx command failed');
      if (what !== 'hangup') endBoth(callControlId, `${what}_failed`);
    });

  const startStream = (callControlId: string, parameters: Record<string, string>, media: MediaNode) => {
    const options: StreamingStartOptions = {
      streamUrl: telnyxStreamUrl(media.url, mediaPath('telnyx'), callControlId),
      codec: settings.codec,
      authToken: deps.tokens.tokenFor(callControlId),
      parameters,
    };
    void command('streaming_start', callControlId, () => deps.rest.startStreaming(callControlId, options));
  };

  /** Ends the call Toneguard knows this leg by, and hangs up both of its legs (Telnyx keeps a leg up when its stream stops). */
  const endBoth = (callControlId: string, reason: string) => {
    pending.delete(callControlId);
    const call = ctx.calls.findByAnyLeg(callControlId);
    flow.ended(callControlId, reason);
    const legs = new Set([callControlId, call?.providerCallId, call?.agentProviderCallId].filter((id): id is string => typeof id === 'string'));
    for (const leg of legs) void command('hangup', leg, () => deps.rest.hangup(leg));
  };

  const forgetStale = () => {
    const cutoff = Date.now() - PENDING_TTL_MS;
    for (const [id, entry] of pending) if (entry.at < cutoff) pending.delete(id);
  };

  const initiated = async (event: TelnyxCallEvent, req: Request) => {
    // Our own dial of the agent reports `outgoing`: it is admitted when it answers.
    if (event.direction !== 'incoming') return;
    const answered = await flow.inbound({ providerCallId: event.callControlId, from: event.from, to: event.to }, req);
    // A replayed `call.initiated` gets nothing: the live call, if any, is untouched.
    if (!answered.ok) return;
    forgetStale();
    if (pending.size >= MAX_PENDING) return endBoth(event.callControlId, 'overloaded');
    pending.set(event.callControlId, { parameters: answered.parameters, media: answered.media, at: Date.now() });
    void command('answer', event.callControlId, () => deps.rest.answer(event.callControlId, { media: answered.media, parameters: answered.parameters }));
  };

  const answered = async (event: TelnyxCallEvent, req: Request) => {
    // The node that answered the leg remembers it; another node reads it from the echoed `client_state`.
    const caller = pending.get(event.callControlId) ?? callerOf(event);
    if (caller) {
      pending.delete(event.callControlId);
      return startStream(event.callControlId, caller.parameters, caller.media);
    }
    const callerCallId = agentOf(event);
    if (callerCallId === undefined) return;
    const agent = await flow.agentAnswered(event.callControlId, callerCallId, req);
    if (agent.ok) startStream(event.callControlId, agent.parameters, agent.media);
  };

  router.post(TELNYX_WEBHOOK_PATH, raw, signed, async (req: Request, res: Response) => {
    const event = parseTelnyxWebhook(req.body as string);
    if (!event) {
      logger.warn({ path: req.path }, 'telnyx webhook with unusable fields');
      return res.status(400).json({ error: { code: 'invalid_request', message: 'Missing or invalid Telnyx fields' } });
    }
    if (event.eventType === 'call.initiated') await initiated(event, req);
    else if (event.eventType === 'call.answered') await answered(event, req);
    else if (ENDING_EVENTS.has(event.eventType)) endBoth(event.callControlId, event.eventType === 'call.hangup' ? 'hangup' : 'stream_stopped');
    res.status(200).json({ received: true });
  });

  return router;
}
