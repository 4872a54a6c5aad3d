import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { Config } from '../../config/index.js';
import type { CallRegistry } from '../../state/calls.js';
import type { CallFlow, StreamAnswer } from '../call-flow.js';
import { mediaPath } from '../provider.js';
import { signatureRefused, type SignatureContext } from '../signature-check.js';
import { connectWebsocketNcco, hangupNcco } from './ncco.js';
import type { VonageVoiceClient } from './rest-client.js';
import { verifyVonageRequest, type VonageSignatureOptions } from './signature.js';
import { callUuid, endedCallOf, parseVonageAnswer } from './webhook.js';

export const VONAGE_PATHS = {
  /** The application's answer URL (GET, or POST with JSON). */
  answer: '/vonage/voice/answer',
  /** The agent call's answer URL, naming the caller's call: `?call={uuid}`. */
  agent: '/vonage/voice/agent',
  /** The application's event URL, and every websocket leg's. */
  event: '/vonage/voice/event',
} as const;

export type VonageRouteContext = SignatureContext & { config: Pick<Config, 'vonage' | 'publicUrl' | 'http'>; calls: CallRegistry };

export interface VonageRouteDeps {
  rest: VonageVoiceClient;
  nowSeconds?: () => number;
}

const agentQuery = z.object({ call: callUuid });

/** The request's fields and the serialisations its `payload_hash` may cover: the JSON body, or the JSON of a GET's query. */
function payloadOf(req: Request): { fields: unknown; candidates: string[] } {
  if (req.method === 'GET') {
    // Whether Vonage's hash covers the parameters of our own answer URL (`call`) too is not documented: both are tried.
    const { call: _ours, ...theirs } = req.query;
    return { fields: req.query, candidates: [JSON.stringify(req.query), JSON.stringify(theirs)] };
  }
  const raw = typeof req.body === 'string' ? req.body : '';
  let fields: unknown;
  try {
    fields = JSON.parse(raw);
  } catch {
    fields = undefined;
  }
  return { fields, candidates: fields === undefined ? [raw] : [raw, JSON.stringify(fields)] };
}

/** The options a signature check runs with, at this moment. */
export const signatureOptions = (settings: Config['vonage'], now: () => number): VonageSignatureOptions => ({
  signatureSecret: settings.signatureSecret,
  apiKey: settings.apiKey,
  maxTokenAgeSeconds: settings.maxTokenAgeSeconds,
  nowSeconds: now(),
});

/**
 * Vonage's voice webhooks on the neutral call flow: the caller's answer URL and the agent call's
 * answer each NCCO-connect that leg, alone in its own conversation, to Toneguard's websocket;
 * the event URL ends calls, hanging up the other leg. Every request must carry Vonage's signed JWT.
 */
export function vonageVoiceRouter(ctx: VonageRouteContext, flow: CallFlow, deps: VonageRouteDeps): Router {
  const router = Router();
  const logger = ctx.logger.child({ module: 'vonage-voice' });
  const settings = ctx.config.vonage;
  const now = deps.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  const raw = express.text({ type: () => true, limit: ctx.config.http.bodyLimitBytes });
  const eventUrl = ctx.config.publicUrl.replace(/\/$/, '') + VONAGE_PATHS.event;
  /** The websocket on the media node the flow picked for the call (this service's public URL on a single node). */
  const streamUrl = (answered: Extract<StreamAnswer, { ok: true }>) => answered.media.url.replace(/\/$/, '').replace(/^http/, 'ws') + mediaPath('vonage');

  const signed =
    (route: string): RequestHandler =>
    (req, res, next) => {
      const check = verifyVonageRequest(req.headers.authorization, payloadOf(req).candidates, signatureOptions(settings, now));
      if (check.ok) return next();
      signatureRefused(ctx, 'vonage', route, req.socket.remoteAddress, check.reason === 'missing' ? 'missing' : 'invalid');
      res.status(403).json({ error: { code: 'signature_invalid', message: 'Missing or invalid Vonage signature' } });
    };

  const badRequest = (res: Response, req: Request) => {
    logger.warn({ path: req.path }, 'vonage webhook with unusable fields');
    res.status(400).json({ error: { code: 'invalid_request', message: 'Missing or invalid Vonage fields' } });
  };
  const ncco = (res: Response, uuid: string, answered: StreamAnswer) =>
    res.json(answered.ok ? connectWebsocketNcco({ streamUrl: streamUrl(answered), rate: settings.sampleRate, callUuid: uuid, parameters: answered.parameters, eventUrl }) : hangupNcco());

  const answer: RequestHandler = async (req, res) => {
    const call = parseVonageAnswer(payloadOf(req).fields);
    if (!call) return badRequest(res, req);
    ncco(res, call.uuid, await flow.inbound({ providerCallId: call.uuid, from: call.from, to: call.to }, req));
  };

  const agent: RequestHandler = async (req, res) => {
    const call = parseVonageAnswer(payloadOf(req).fields);
    if (!call) return badRequest(res, req);
    const query = agentQuery.safeParse(req.query);
    ncco(res, call.uuid, await flow.agentAnswered(call.uuid, query.success ? query.data.call : undefined, req));
  };

  /** The call Toneguard knows this leg by ends, and its other leg is hung up (a leg alone in its conversation would stay up). */
  const ended = (uuid: string, reason: string) => {
    const call = ctx.calls.findByAnyLeg(uuid);
    flow.ended(uuid, reason);
    for (const leg of [call?.providerCallId, call?.agentProviderCallId]) {
      if (typeof leg !== 'string' || leg === uuid) continue;
      deps.rest.hangup(leg).catch((err: unknown) => logger.warn({ err, callId: leg }, 'vonage hangup failed'));
    }
  };

  router.get(VONAGE_PATHS.answer, signed(VONAGE_PATHS.answer), answer);
  router.post(VONAGE_PATHS.answer, raw, signed(VONAGE_PATHS.answer), answer);
  router.get(VONAGE_PATHS.agent, signed(VONAGE_PATHS.agent), agent);
  router.post(VONAGE_PATHS.agent, raw, signed(VONAGE_PATHS.agent), agent);
  router.post(VONAGE_PATHS.event, raw, signed(VONAGE_PATHS.event), (req, res) => {
    const { fields } = payloadOf(req);
    const end = endedCallOf(fields);
    if (end) ended(end.uuid, end.status === 'completed' ? 'hangup' : end.status);
    res.status(204).end();
  });

  return router;
}
