import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Config } from '../../config/index.js';
import type { CallFlow } from '../call-flow.js';
import type { SignatureContext } from '../signature-check.js';
import { publicUrlFor, twilioSignature } from './signature.js';
import { connectStreamTwiml, hangupTwiml } from './twiml.js';

export const VOICE_PATHS = {
  inbound: '/twilio/voice/inbound',
  agent: '/twilio/voice/agent',
  callStatus: '/twilio/status/call',
  streamStatus: '/twilio/status/stream',
} as const;

const callSid = z.string().regex(/^CA[0-9a-fA-F]{32}$/);
/** Twilio posts many more fields than these; unknown ones are ignored. */
const inboundForm = z.object({
  CallSid: callSid,
  From: z.string().max(256).optional(),
  To: z.string().max(256).optional(),
  /** STIR/SHAKEN verification of the caller ID (`TN-Validation-Passed-A`, …); only on calls that carried a PASSporT. */
  StirVerstat: z.string().max(64).optional(),
});
/** The agent leg's webhook names the customer call it belongs to (our own URL, signed by Twilio). */
const agentQuery = z.object({ call: callSid });
const agentForm = z.object({ CallSid: callSid });
const callStatusForm = z.object({ CallSid: callSid, CallStatus: z.string().max(32).optional() });
const streamStatusForm = z.object({ CallSid: callSid, StreamEvent: z.string().max(32).optional() });
export const ENDED_CALL_STATUSES: ReadonlySet<string> = new Set(['completed', 'busy', 'failed', 'no-answer', 'canceled']);

export type VoiceRouteContext = SignatureContext & { config: Pick<Config, 'twilio' | 'publicUrl' | 'profile' | 'http'> };

/**
 * Twilio's voice webhooks on the neutral call flow: the inbound call and the agent leg answer with
 * bidirectional `<Connect><Stream>`s carrying the flow's stream parameters; status callbacks end
 * calls. Every route checks the Twilio signature.
 */
export function twilioVoiceRouter(ctx: VoiceRouteContext, flow: CallFlow): Router {
  const router = Router();
  const logger = ctx.logger.child({ module: 'twilio-voice' });
  const publicUrl = ctx.config.publicUrl;
  const form = express.urlencoded({ extended: false, limit: ctx.config.http.bodyLimitBytes });
  const statusCallback = publicUrlFor(publicUrl, VOICE_PATHS.streamStatus);

  const twiml = (res: Response, body: string) => res.type('text/xml').send(body);
  const badRequest = (res: Response, req: Request) => {
    logger.warn({ path: req.path }, 'twilio webhook with unusable fields');
    res.status(400).json({ error: { code: 'invalid_request', message: 'Missing or invalid Twilio fields' } });
  };
  const answer = (res: Response, answered: Awaited<ReturnType<CallFlow['agentAnswered']>>) =>
    twiml(res, answered.ok ? connectStreamTwiml({ publicUrl, parameters: answered.parameters, statusCallback }) : hangupTwiml());

  router.post(VOICE_PATHS.inbound, form, twilioSignature(ctx, VOICE_PATHS.inbound), (req, res) => {
    const parsed = inboundForm.safeParse(req.body);
    if (!parsed.success) return badRequest(res, req);
    const { CallSid, From, To, StirVerstat } = parsed.data;
    answer(res, flow.inbound({ providerCallId: CallSid, from: From, to: To, stirVerstat: StirVerstat }, req));
  });

  router.post(VOICE_PATHS.agent, form, twilioSignature(ctx, VOICE_PATHS.agent), async (req, res) => {
    const body = agentForm.safeParse(req.body);
    if (!body.success) return badRequest(res, req);
    const query = agentQuery.safeParse(req.query);
    answer(res, await flow.agentAnswered(body.data.CallSid, query.success ? query.data.call : undefined, req));
  });

  router.post(VOICE_PATHS.callStatus, form, twilioSignature(ctx, VOICE_PATHS.callStatus), (req, res) => {
    const parsed = callStatusForm.safeParse(req.body);
    if (!parsed.success) return badRequest(res, req);
    if (ENDED_CALL_STATUSES.has(parsed.data.CallStatus ?? '')) flow.ended(parsed.data.CallSid, 'hangup');
    res.status(204).end();
  });

  router.post(VOICE_PATHS.streamStatus, form, twilioSignature(ctx, VOICE_PATHS.streamStatus), (req, res) => {
    const parsed = streamStatusForm.safeParse(req.body);
    if (!parsed.success) return badRequest(res, req);
    if (parsed.data.StreamEvent === 'stream-stopped' || parsed.data.StreamEvent === 'stream-error') flow.ended(parsed.data.CallSid, 'stream_stopped');
    res.status(204).end();
  });

  return router;
}
