import { randomUUID } from 'node:crypto';
import express, { Router, type Request } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import type { MediaService } from '../../media/index.js';
import type { TwilioRestClient } from './rest-client.js';
import { publicUrlFor, twilioSignature } from './signature.js';
import { agentIdentity, connectStreamTwiml } from './twiml.js';

export const VOICE_PATHS = {
  inbound: '/twilio/voice/inbound',
  agent: '/twilio/voice/agent',
  callStatus: '/twilio/status/call',
  streamStatus: '/twilio/status/stream',
} as const;

const callSid = z.string().regex(/^CA[0-9a-fA-F]{32}$/);
/** Twilio posts many more fields than these; unknown ones are ignored. */
const inboundForm = z.object({ CallSid: callSid, From: z.string().max(256).optional(), To: z.string().max(256).optional() });
const agentQuery = z.object({ session: z.uuid() });
const callStatusForm = z.object({ CallSid: callSid, CallStatus: z.string().max(32).optional() });
const streamStatusForm = z.object({ CallSid: callSid, StreamEvent: z.string().max(32).optional() });
const ENDED_CALL_STATUSES = new Set(['completed', 'busy', 'failed', 'no-answer', 'canceled']);

type VoiceContext = Pick<AppContext, 'config' | 'logger' | 'audit' | 'metrics' | 'calls'>;

function hangupTwiml(): string {
  return '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>';
}

/**
 * The voice webhooks: the inbound call and the agent leg answer with bidirectional
 * `<Connect><Stream>`s; status callbacks end calls. Every route checks the Twilio signature.
 */
export function voiceRouter(ctx: VoiceContext, media: MediaService, rest: TwilioRestClient): Router {
  const router = Router();
  const logger = ctx.logger.child({ module: 'twilio-voice' });
  const publicUrl = ctx.config.publicUrl;
  const form = express.urlencoded({ extended: false, limit: ctx.config.http.bodyLimitBytes });
  const streamStatusCallback = publicUrlFor(publicUrl, VOICE_PATHS.streamStatus);

  const dialAgent = (call: { callSid: string; sessionId: string }, to: string | undefined) => {
    const target = ctx.config.twilio.agentTarget;
    rest
      .createCall({
        to: target,
        from: ctx.config.twilio.callerId ?? to ?? 'toneguard',
        url: publicUrlFor(publicUrl, `${VOICE_PATHS.agent}?session=${call.sessionId}`),
        statusCallback: publicUrlFor(publicUrl, VOICE_PATHS.callStatus),
      })
      .then((agentCallSid) => ctx.calls.update(call.callSid, { agentCallSid }))
      .catch((err: unknown) => {
        logger.error({ err, callSid: call.callSid }, 'agent leg could not be placed');
        media.endCall(call.callSid, 'agent_unreachable');
      });
  };

  const twiml = (res: express.Response, body: string) => res.type('text/xml').send(body);
  const badRequest = (res: express.Response, req: Request) => {
    logger.warn({ path: req.path }, 'twilio webhook with unusable fields');
    res.status(400).json({ error: { code: 'invalid_request', message: 'Missing or invalid Twilio fields' } });
  };

  router.post(VOICE_PATHS.inbound, form, twilioSignature(ctx, VOICE_PATHS.inbound), (req, res) => {
    const parsed = inboundForm.safeParse(req.body);
    if (!parsed.success) return badRequest(res, req);
    const known = ctx.calls.get(parsed.data.CallSid);
    if (known?.state === 'ended') return twiml(res, hangupTwiml());
    // Twilio retries a webhook it got no answer from: the same call gets the same session, dialled once.
    const call = known ?? { callSid: parsed.data.CallSid, sessionId: randomUUID() };
    if (!known) ctx.calls.upsert({ ...call, from: parsed.data.From, state: 'ringing', startedAt: new Date().toISOString() });
    twiml(res, connectStreamTwiml({ publicUrl, leg: 'caller', sessionId: call.sessionId, statusCallback: streamStatusCallback }));
    if (!known) dialAgent(call, parsed.data.To);
  });

  router.post(VOICE_PATHS.agent, form, twilioSignature(ctx, VOICE_PATHS.agent), (req, res) => {
    const query = agentQuery.safeParse(req.query);
    const call = query.success ? ctx.calls.list().find((c) => c.sessionId === query.data.session && c.state !== 'ended') : undefined;
    if (!call) return twiml(res, hangupTwiml());
    const agent = agentIdentity(ctx.config.twilio.agentTarget);
    twiml(res, connectStreamTwiml({ publicUrl, leg: 'agent', sessionId: call.sessionId, agent, statusCallback: streamStatusCallback }));
  });

  router.post(VOICE_PATHS.callStatus, form, twilioSignature(ctx, VOICE_PATHS.callStatus), (req, res) => {
    const parsed = callStatusForm.safeParse(req.body);
    if (!parsed.success) return badRequest(res, req);
    if (ENDED_CALL_STATUSES.has(parsed.data.CallStatus ?? '')) media.endCall(parsed.data.CallSid, 'hangup');
    res.status(204).end();
  });

  router.post(VOICE_PATHS.streamStatus, form, twilioSignature(ctx, VOICE_PATHS.streamStatus), (req, res) => {
    const parsed = streamStatusForm.safeParse(req.body);
    if (!parsed.success) return badRequest(res, req);
    if (parsed.data.StreamEvent === 'stream-stopped' || parsed.data.StreamEvent === 'stream-error') media.endCall(parsed.data.CallSid, 'stream_stopped');
    res.status(204).end();
  });

  return router;
}
