import express, { Router, type Request } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import type { MediaService, StreamCredentials } from '../../media/index.js';
import type { HandledCallStore } from './handled-calls.js';
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
const ENDED_CALL_STATUSES = new Set(['completed', 'busy', 'failed', 'no-answer', 'canceled']);

type VoiceContext = Pick<AppContext, 'config' | 'logger' | 'audit' | 'metrics' | 'calls' | 'verification'>;

/** Why a signed voice webhook is answered with a hang-up. */
type WebhookRefusal = 'already_handled' | 'agent_call_not_placed';

export interface VoiceRouterDeps {
  media: MediaService;
  rest: TwilioRestClient;
  /** Issues each leg's single-use stream credential. */
  credentials: StreamCredentials;
  handled: HandledCallStore;
}

function hangupTwiml(): string {
  return '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>';
}

/**
 * The voice webhooks: the inbound call and the agent leg answer with bidirectional
 * `<Connect><Stream>`s, each carrying a fresh stream credential; status callbacks end calls.
 * Every route checks the Twilio signature. A signature never expires, so each CallSid is
 * answered once, ever: a retried or replayed webhook gets `<Hangup/>` (the answer goes to
 * whoever sent the request; the live call, if any, is untouched).
 */
export function voiceRouter(ctx: VoiceContext, deps: VoiceRouterDeps): Router {
  const { media, rest, credentials, handled } = deps;
  const router = Router();
  const logger = ctx.logger.child({ module: 'twilio-voice' });
  const publicUrl = ctx.config.publicUrl;
  const form = express.urlencoded({ extended: false, limit: ctx.config.http.bodyLimitBytes });
  const streamStatusCallback = publicUrlFor(publicUrl, VOICE_PATHS.streamStatus);
  /** Agent calls being placed: the caller's CallSid → the agent CallSid Twilio's REST API returns. */
  const placing = new Map<string, Promise<string | undefined>>();

  const dialAgent = (callerCallSid: string, to: string | undefined) => {
    const placed = rest
      .createCall({
        to: ctx.config.twilio.agentTarget,
        from: ctx.config.twilio.callerId ?? to ?? 'toneguard',
        url: publicUrlFor(publicUrl, `${VOICE_PATHS.agent}?call=${callerCallSid}`),
        statusCallback: publicUrlFor(publicUrl, VOICE_PATHS.callStatus),
      })
      .then((agentCallSid) => {
        ctx.calls.update(callerCallSid, { agentCallSid });
        return agentCallSid;
      })
      .catch((err: unknown) => {
        logger.error({ err, callSid: callerCallSid }, 'agent leg could not be placed');
        media.endCall(callerCallSid, 'agent_unreachable');
        return undefined;
      })
      .finally(() => placing.delete(callerCallSid));
    placing.set(callerCallSid, placed);
  };

  /** The agent CallSid Toneguard placed for a live call, waiting for the REST answer if it is still due. */
  const placedAgentCall = async (callerCallSid: string): Promise<string | undefined> => {
    const call = ctx.calls.get(callerCallSid);
    if (!call || call.state === 'ended') return undefined;
    return call.agentCallSid ?? (await placing.get(callerCallSid));
  };

  const twiml = (res: express.Response, body: string) => res.type('text/xml').send(body);
  const badRequest = (res: express.Response, req: Request) => {
    logger.warn({ path: req.path }, 'twilio webhook with unusable fields');
    res.status(400).json({ error: { code: 'invalid_request', message: 'Missing or invalid Twilio fields' } });
  };
  const refuse = (res: express.Response, req: Request, route: string, webhookCallSid: string, reason: WebhookRefusal) => {
    const source = req.socket.remoteAddress;
    logger.warn({ route, callSid: webhookCallSid, reason }, 'twilio webhook refused');
    ctx.audit.record({
      action: 'twilio.webhook_refused',
      actor: { type: 'telephony', id: 'twilio', source },
      outcome: 'denied',
      resource: { type: 'call', id: webhookCallSid },
      source,
      details: { route, reason },
    });
    twiml(res, hangupTwiml());
  };

  router.post(VOICE_PATHS.inbound, form, twilioSignature(ctx, VOICE_PATHS.inbound), (req, res) => {
    const parsed = inboundForm.safeParse(req.body);
    if (!parsed.success) return badRequest(res, req);
    const { CallSid, From, To, StirVerstat } = parsed.data;
    if (!handled.claim(CallSid)) return refuse(res, req, VOICE_PATHS.inbound, CallSid, 'already_handled');
    ctx.calls.upsert({ callSid: CallSid, from: From, state: 'ringing', startedAt: new Date().toISOString() });
    ctx.verification.noteInboundCall(CallSid, StirVerstat);
    const credential = credentials.issue({ leg: 'caller', legCallSid: CallSid });
    twiml(res, connectStreamTwiml({ publicUrl, leg: 'caller', credential, statusCallback: streamStatusCallback }));
    dialAgent(CallSid, To);
  });

  router.post(VOICE_PATHS.agent, form, twilioSignature(ctx, VOICE_PATHS.agent), async (req, res) => {
    const body = agentForm.safeParse(req.body);
    if (!body.success) return badRequest(res, req);
    const agentCallSid = body.data.CallSid;
    const query = agentQuery.safeParse(req.query);
    const placed = query.success ? await placedAgentCall(query.data.call) : undefined;
    if (placed !== agentCallSid) return refuse(res, req, VOICE_PATHS.agent, agentCallSid, 'agent_call_not_placed');
    if (!handled.claim(agentCallSid)) return refuse(res, req, VOICE_PATHS.agent, agentCallSid, 'already_handled');
    const agent = agentIdentity(ctx.config.twilio.agentTarget);
    const credential = credentials.issue({ leg: 'agent', legCallSid: agentCallSid, agentId: agent });
    twiml(res, connectStreamTwiml({ publicUrl, leg: 'agent', agent, credential, statusCallback: streamStatusCallback }));
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
