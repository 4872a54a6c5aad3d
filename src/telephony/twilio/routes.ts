import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { Config } from '../../config/index.js';
import type { CallFlow, ReconnectTarget, StreamAnswer } from '../call-flow.js';
import type { SignatureContext } from '../signature-check.js';
import { publicUrlFor, twilioSignature } from './signature.js';
import { connectStreamTwiml, hangupTwiml } from './twiml.js';

export interface VoicePaths {
  inbound: string;
  agent: string;
  /** `<Connect action>`: a leg's stream ended; answered with a hang-up or a stream to the call's (new) node. */
  reconnect: string;
  callStatus: string;
  streamStatus: string;
}

/** A provider's voice webhook paths, under `/{provider}/...`. */
export const voicePaths = (provider: string): VoicePaths => ({
  inbound: `/${provider}/voice/inbound`,
  agent: `/${provider}/voice/agent`,
  reconnect: `/${provider}/voice/reconnect`,
  callStatus: `/${provider}/status/call`,
  streamStatus: `/${provider}/status/stream`,
});

export const VOICE_PATHS = voicePaths('twilio');

export const ENDED_CALL_STATUSES: ReadonlySet<string> = new Set(['completed', 'busy', 'failed', 'no-answer', 'canceled']);

/** What differs between Twilio and a Twilio-compatible platform's voice webhooks. */
export interface VoiceDialect {
  /** Shown in logs and errors. */
  displayName: string;
  paths: VoicePaths;
  /** The platform's call id (`CA…` on Twilio, a UUID on SignalWire). */
  callId: z.ZodString;
  /** The signature middleware for one route (mounted after the form parser). */
  signature(route: string): RequestHandler;
  /** The stream document answering a voice webhook. */
  streamDocument(stream: StreamDocument, statusCallback: string): string;
}

/** One leg's stream as a call-control document writes it. */
export interface StreamDocument {
  parameters: Readonly<Record<string, string>>;
  /** The base URL of the media node the stream goes to. */
  mediaUrl: string;
  /** The `<Connect action>` URL (cluster mode), signed by the platform like every webhook. */
  action?: string;
}

export type VoiceRouteContext = SignatureContext & { config: Pick<Config, 'twilio' | 'publicUrl' | 'profile' | 'http'> };

/**
 * Twilio-format voice webhooks on the neutral call flow: the inbound call and the agent leg answer
 * with bidirectional `<Connect><Stream>`s carrying the flow's stream parameters; status callbacks
 * end calls. Every route checks the platform's signature.
 */
export function twilioFormatVoiceRouter(ctx: SignatureContext & { config: Pick<Config, 'publicUrl' | 'http'> }, flow: CallFlow, dialect: VoiceDialect): Router {
  const { paths } = dialect;
  const router = Router();
  const logger = ctx.logger.child({ module: 'voice-webhooks', provider: dialect.displayName });
  const form = express.urlencoded({ extended: false, limit: ctx.config.http.bodyLimitBytes });
  const statusCallback = publicUrlFor(ctx.config.publicUrl, paths.streamStatus);
  const callId = dialect.callId;
  /** The platform posts many more fields than these; unknown ones are ignored. */
  const inboundForm = z.object({
    CallSid: callId,
    From: z.string().max(256).optional(),
    To: z.string().max(256).optional(),
    /** STIR/SHAKEN verification of the caller ID (`TN-Validation-Passed-A`, …); only on calls that carried a PASSporT. */
    StirVerstat: z.string().max(64).optional(),
  });
  /** The agent leg's webhook names the customer call it belongs to (our own URL, signed by the platform). */
  const agentQuery = z.object({ call: callId });
  const agentForm = z.object({ CallSid: callId });
  /** Our own action URL, signed by the platform with the rest of it: the caller call, the leg and the node the ended stream went to. */
  const reconnectQuery = z.object({ call: callId, leg: z.enum(['caller', 'agent']), node: z.string().min(1).max(64) });
  const callStatusForm = z.object({ CallSid: callId, CallStatus: z.string().max(32).optional() });
  const streamStatusForm = z.object({ CallSid: callId, StreamEvent: z.string().max(32).optional() });

  const badRequest = (res: Response, req: Request) => {
    logger.warn({ path: req.path }, 'voice webhook with unusable fields');
    res.status(400).json({ error: { code: 'invalid_request', message: `Missing or invalid ${dialect.displayName} fields` } });
  };
  const actionUrl = ({ callId: call, leg, node }: ReconnectTarget) =>
    publicUrlFor(ctx.config.publicUrl, `${paths.reconnect}?${new URLSearchParams({ call, leg, node }).toString()}`);
  const document = (answered: StreamAnswer & { ok: true }) =>
    dialect.streamDocument(
      { parameters: answered.parameters, mediaUrl: answered.media.url, ...(answered.reconnect ? { action: actionUrl(answered.reconnect) } : {}) },
      statusCallback,
    );
  const answer = (res: Response, answered: StreamAnswer) => res.type('text/xml').send(answered.ok ? document(answered) : hangupTwiml());

  router.post(paths.inbound, form, dialect.signature(paths.inbound), async (req, res) => {
    const parsed = inboundForm.safeParse(req.body);
    if (!parsed.success) return badRequest(res, req);
    const { CallSid, From, To, StirVerstat } = parsed.data;
    answer(res, await flow.inbound({ providerCallId: CallSid, from: From, to: To, stirVerstat: StirVerstat }, req));
  });

  router.post(paths.reconnect, form, dialect.signature(paths.reconnect), async (req, res) => {
    const query = reconnectQuery.safeParse(req.query);
    if (!query.success) return badRequest(res, req);
    answer(res, await flow.reconnect({ callId: query.data.call, leg: query.data.leg, node: query.data.node }, req));
  });

  router.post(paths.agent, form, dialect.signature(paths.agent), async (req, res) => {
    const body = agentForm.safeParse(req.body);
    if (!body.success) return badRequest(res, req);
    const query = agentQuery.safeParse(req.query);
    answer(res, await flow.agentAnswered(body.data.CallSid, query.success ? query.data.call : undefined, req));
  });

  router.post(paths.callStatus, form, dialect.signature(paths.callStatus), (req, res) => {
    const parsed = callStatusForm.safeParse(req.body);
    if (!parsed.success) return badRequest(res, req);
    if (ENDED_CALL_STATUSES.has(parsed.data.CallStatus ?? '')) flow.ended(parsed.data.CallSid, 'hangup');
    res.status(204).end();
  });

  router.post(paths.streamStatus, form, dialect.signature(paths.streamStatus), (req, res) => {
    const parsed = streamStatusForm.safeParse(req.body);
    if (!parsed.success) return badRequest(res, req);
    if (parsed.data.StreamEvent === 'stream-stopped' || parsed.data.StreamEvent === 'stream-error') flow.streamEnded(parsed.data.CallSid);
    res.status(204).end();
  });

  return router;
}

/** Twilio's voice webhooks: `CA…` call ids, `X-Twilio-Signature`, TwiML. */
export function twilioVoiceRouter(ctx: VoiceRouteContext, flow: CallFlow): Router {
  return twilioFormatVoiceRouter(ctx, flow, {
    displayName: 'Twilio',
    paths: VOICE_PATHS,
    callId: z.string().regex(/^CA[0-9a-fA-F]{32}$/),
    signature: (route) => twilioSignature(ctx, route),
    streamDocument: ({ parameters, mediaUrl, action }, statusCallback) => connectStreamTwiml({ publicUrl: mediaUrl, parameters, statusCallback, action }),
  });
}
