import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { CallFlow, MediaNode, StreamAnswer } from '../call-flow.js';
import { mediaPath } from '../provider.js';
import { signedWebhook } from '../signature-check.js';
import { publicUrlFor, publicWsUrlFor, signatureHeader } from '../twilio/signature.js';
import { NONCE_HEADER, plivoSignatureValid, SIGNATURE_HEADER, type PlivoParams } from './signature.js';
import { plivoSocketToken, plivoValidationOff, type PlivoCheckContext } from './upgrade.js';
import { plivoFormat } from './wire.js';
import { plivoHangupXml, plivoStreamXml } from './xml.js';
import type { Config } from '../../config/index.js';

export const PLIVO_PATHS = {
  inbound: '/plivo/voice/inbound',
  agent: '/plivo/voice/agent',
  hangup: '/plivo/voice/hangup',
  streamStatus: '/plivo/status/stream',
} as const;

const uuid = z.string().regex(/^[A-Za-z0-9-]{1,64}$/);
const field = z.string().max(256).optional();
/** Plivo posts many more fields than these; unknown ones are ignored. */
const inboundForm = z.object({ CallUUID: uuid, From: field, To: field });
/** The agent call's answer: its CallUUID, and the request_uuid the Call API returned when Toneguard placed it. */
const agentForm = z.object({ CallUUID: uuid, RequestUUID: uuid.optional(), ALegRequestUUID: uuid.optional() });
const agentQuery = z.object({ call: uuid });
const hangupForm = z.object({ CallUUID: uuid, RequestUUID: uuid.optional(), ALegRequestUUID: uuid.optional() });
const streamStatusForm = z.object({ CallUUID: uuid, Event: z.string().max(32).optional() });
const STREAM_ENDED = new Set(['StopStream', 'DroppedStream']);

export type PlivoRouteContext = PlivoCheckContext & { config: Pick<Config, 'plivo' | 'publicUrl' | 'profile' | 'http'> };

/**
 * Plivo's webhooks on the neutral call flow. The inbound call (the Application's answer URL) and
 * the agent's call answer with a bidirectional `<Stream>`; the hang-up URL and the stream status
 * callback end calls. Every route checks `X-Plivo-Signature-V3` over the public URL and the params.
 */
export function plivoRouter(ctx: PlivoRouteContext, flow: CallFlow): Router {
  const router = Router();
  const logger = ctx.logger.child({ module: 'plivo-voice' });
  const { publicUrl } = ctx.config;
  const limit = ctx.config.http.bodyLimitBytes;
  // Plivo posts forms; a JSON body (its docs' examples read one) is read the same way.
  const form = express.urlencoded({ extended: false, limit });
  const json = express.json({ limit });
  const format = plivoFormat(...(ctx.config.plivo.contentType.split(';rate=') as [string, string]));
  const socketToken = plivoSocketToken(ctx.config.plivo.authToken);
  /** The socket on the media node the flow picked for the call (this service's public URL on a single node). */
  const streamUrl = (media: MediaNode) => `${publicWsUrlFor(media.url, mediaPath('plivo'))}?auth=${socketToken}`;
  const statusCallbackUrl = publicUrlFor(publicUrl, PLIVO_PATHS.streamStatus);

  const signed = (route: string) =>
    signedWebhook(
      ctx,
      'plivo',
      route,
      (req) => {
        if (plivoValidationOff(ctx)) return 'valid';
        const signature = signatureHeader(req, SIGNATURE_HEADER);
        if (signature === undefined) return 'missing';
        const params = (req.body ?? {}) as PlivoParams;
        const url = publicUrlFor(publicUrl, req.originalUrl);
        return plivoSignatureValid(ctx.config.plivo.authToken, { method: 'POST', url, params, signature, nonce: signatureHeader(req, NONCE_HEADER) }) ? 'valid' : 'invalid';
      },
      'Plivo',
    );

  const xml = (res: Response, document: string) => res.type('application/xml').send(document);
  const badRequest = (res: Response, req: Request) => {
    logger.warn({ path: req.path }, 'plivo webhook with unusable fields');
    res.status(400).json({ error: { code: 'invalid_request', message: 'Missing or invalid Plivo fields' } });
  };
  const answer = (res: Response, answeredCall: StreamAnswer, extra: Record<string, string> = {}) =>
    xml(res, answeredCall.ok && format ? plivoStreamXml({ streamUrl: streamUrl(answeredCall.media), format, parameters: { ...answeredCall.parameters, ...extra }, statusCallbackUrl }) : plivoHangupXml());

  router.post(PLIVO_PATHS.inbound, form, json, signed(PLIVO_PATHS.inbound), async (req, res) => {
    const parsed = inboundForm.safeParse(req.body);
    if (!parsed.success) return badRequest(res, req);
    answer(res, await flow.inbound({ providerCallId: parsed.data.CallUUID, from: parsed.data.From, to: parsed.data.To }, req));
  });

  router.post(PLIVO_PATHS.agent, form, json, signed(PLIVO_PATHS.agent), async (req, res) => {
    const parsed = agentForm.safeParse(req.body);
    if (!parsed.success) return badRequest(res, req);
    const requestUuid = parsed.data.RequestUUID ?? parsed.data.ALegRequestUUID;
    if (requestUuid === undefined) return badRequest(res, req);
    const query = agentQuery.safeParse(req.query);
    const result = await flow.agentAnswered(requestUuid, query.success ? query.data.call : undefined, req);
    // The agent leg's credential names the request_uuid (the id Toneguard placed): the stream echoes it, as `request`, for its start.
    answer(res, result, { request: requestUuid });
  });

  router.post(PLIVO_PATHS.hangup, form, json, signed(PLIVO_PATHS.hangup), (req, res) => {
    const parsed = hangupForm.safeParse(req.body);
    if (!parsed.success) return badRequest(res, req);
    const { CallUUID, RequestUUID, ALegRequestUUID } = parsed.data;
    // The agent call is known by its request_uuid, the caller's by its CallUUID: either may be the one that ended.
    for (const id of new Set([CallUUID, RequestUUID ?? CallUUID, ALegRequestUUID ?? CallUUID])) flow.ended(id, 'hangup');
    res.status(204).end();
  });

  router.post(PLIVO_PATHS.streamStatus, form, json, signed(PLIVO_PATHS.streamStatus), (req, res) => {
    const parsed = streamStatusForm.safeParse(req.body);
    if (!parsed.success) return badRequest(res, req);
    if (STREAM_ENDED.has(parsed.data.Event ?? '')) flow.ended(parsed.data.CallUUID, 'stream_stopped');
    res.status(204).end();
  });

  return router;
}
