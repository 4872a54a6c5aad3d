import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { Config } from '../../config/index.js';
import type { CallFlow, MediaNode, StreamAnswer } from '../call-flow.js';
import { mediaPath } from '../provider.js';
import { signedWebhook, type SignatureContext } from '../signature-check.js';
import { publicUrlFor, publicWsUrlFor, signatureHeader } from '../twilio/signature.js';
import { jambonzHangupDocument, jambonzListenDocument } from './listen.js';
import { checkJambonzSignature, SIGNATURE_HEADER } from './signature.js';
import { jambonzWsCredentials } from './ws-auth.js';

export const JAMBONZ_PATHS = {
  inbound: '/jambonz/voice/inbound',
  agent: '/jambonz/voice/agent',
  listenEnded: '/jambonz/voice/listen-ended',
  callStatus: '/jambonz/status/call',
} as const;

const sid = z.string().regex(/^[A-Za-z0-9-]{1,64}$/);
const field = z.string().max(256).optional();
/** jambonz posts the call's attributes in snake case; unknown ones are ignored. */
const callHook = z.object({ call_sid: sid, from: field, to: field, direction: field });
const agentQuery = z.object({ call: sid });
const statusHook = z.object({ call_sid: sid, call_status: z.string().max(32).optional() });
const ENDED = new Set(['completed', 'failed', 'busy', 'no-answer']);

export type JambonzRouteContext = SignatureContext & { config: Pick<Config, 'jambonz' | 'publicUrl' | 'profile' | 'http'> };

/** Only the development profile may skip checks. */
export const jambonzValidationOff = (ctx: JambonzRouteContext | (SignatureContext & { config: Pick<Config, 'jambonz' | 'profile'> })) =>
  !ctx.config.jambonz.validateSignatures && ctx.config.profile === 'development';

/** Parses the raw body (kept as bytes for the signature) as JSON; 400 when it is not. */
const parseJson: RequestHandler = (req, res, next) => {
  try {
    req.body = Buffer.isBuffer(req.body) && req.body.length > 0 ? (JSON.parse(req.body.toString('utf8')) as unknown) : {};
    next();
  } catch {
    res.status(400).json({ error: { code: 'invalid_request', message: 'The jambonz webhook body is not JSON' } });
  }
};

/**
 * jambonz's webhooks on the neutral call flow: the application's call hook and the agent call's
 * hook answer with a `listen`; the listen's action hook and the call status hook end calls. Every
 * route checks `Jambonz-Signature` over the raw body, within the configured tolerance.
 */
export function jambonzRouter(ctx: JambonzRouteContext, flow: CallFlow): Router {
  const router = Router();
  const logger = ctx.logger.child({ module: 'jambonz-voice' });
  const settings = ctx.config.jambonz;
  const { publicUrl } = ctx.config;
  const raw = express.raw({ type: () => true, limit: ctx.config.http.bodyLimitBytes });
  /** The socket on the media node the flow picked for the call (this service's public URL on a single node). */
  const streamUrl = (media: MediaNode) => publicWsUrlFor(media.url, mediaPath('jambonz'));
  const actionHook = publicUrlFor(publicUrl, JAMBONZ_PATHS.listenEnded);
  const wsAuth = jambonzWsCredentials(settings);

  const signed = (route: string) =>
    signedWebhook(
      ctx,
      'jambonz',
      route,
      (req) => {
        if (jambonzValidationOff(ctx)) return 'valid';
        const body = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
        const verdict = checkJambonzSignature(settings.webhookSecret, signatureHeader(req, SIGNATURE_HEADER), body, settings.signatureToleranceSeconds);
        return verdict === 'expired' ? 'invalid' : verdict;
      },
      'jambonz',
    );

  const badRequest = (res: Response, req: Request) => {
    logger.warn({ path: req.path }, 'jambonz webhook with unusable fields');
    res.status(400).json({ error: { code: 'invalid_request', message: 'Missing or invalid jambonz fields' } });
  };
  const answer = (res: Response, answered: StreamAnswer) =>
    res.json(
      answered.ok
        ? jambonzListenDocument({ streamUrl: streamUrl(answered.media), actionHook, sampleRate: settings.sampleRate, parameters: answered.parameters, wsAuth, streaming: settings.bidirectionalStreaming })
        : jambonzHangupDocument(),
    );

  router.post(JAMBONZ_PATHS.inbound, raw, signed(JAMBONZ_PATHS.inbound), parseJson, async (req, res) => {
    const parsed = callHook.safeParse(req.body);
    if (!parsed.success) return badRequest(res, req);
    answer(res, await flow.inbound({ providerCallId: parsed.data.call_sid, from: parsed.data.from, to: parsed.data.to }, req));
  });

  router.post(JAMBONZ_PATHS.agent, raw, signed(JAMBONZ_PATHS.agent), parseJson, async (req, res) => {
    const parsed = callHook.safeParse(req.body);
    if (!parsed.success) return badRequest(res, req);
    const query = agentQuery.safeParse(req.query);
    answer(res, await flow.agentAnswered(parsed.data.call_sid, query.success ? query.data.call : undefined, req));
  });

  // The listen ended (its socket closed): the leg hangs up rather than run on without Toneguard.
  router.post(JAMBONZ_PATHS.listenEnded, raw, signed(JAMBONZ_PATHS.listenEnded), parseJson, (req, res) => {
    const parsed = callHook.safeParse(req.body);
    if (!parsed.success) return badRequest(res, req);
    flow.ended(parsed.data.call_sid, 'stream_stopped');
    res.json(jambonzHangupDocument());
  });

  router.post(JAMBONZ_PATHS.callStatus, raw, signed(JAMBONZ_PATHS.callStatus), parseJson, (req, res) => {
    const parsed = statusHook.safeParse(req.body);
    if (!parsed.success) return badRequest(res, req);
    if (ENDED.has(parsed.data.call_status ?? '')) flow.ended(parsed.data.call_sid, 'hangup');
    res.status(204).end();
  });

  return router;
}
