import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { sendError } from '../http/errors.js';
import type { CallRecord } from '../state/calls.js';
import { actorOf, deny403, denialReason, principalOf } from './auth.js';
import { maySeeCall } from './visibility.js';

/** An account reference as the CRM issues it: never free text, so a card number typed by mistake is refused. */
const lookupBody = z.strictObject({ accountRef: z.string().regex(/^[A-Za-z][A-Za-z0-9._-]{0,63}$/) });
/** The index of a number on file: the agent chooses one, never types a number. */
const sendCodeBody = z.strictObject({ numberIndex: z.int().min(0).max(9) });

/**
 * `POST /v1/calls/{callSid}/verification` (look the account up, compare the caller ID) and
 * `POST /v1/calls/{callSid}/verification/otp` (text a code to a number on file, open the `otp`
 * capture): for the agent of the call or a supervisor, like the capture routes. Both run on the
 * node the call is pinned to, where its verification state lives.
 */
export function createVerificationRouter(ctx: AppContext, auth: RequestHandler, operators: RequestHandler): Router {
  const router = express.Router();
  const json = express.json({ limit: ctx.config.http.bodyLimitBytes });

  /** The live call the caller may act on, or answers 404/403 itself. */
  function callFor(req: Request<{ callSid: string }>, res: Response): CallRecord | undefined {
    const call = ctx.calls.get(req.params.callSid);
    if (!call || call.state === 'ended') {
      sendError(res, 404, 'call_not_found', 'no such live call');
      return undefined;
    }
    if (!maySeeCall(principalOf(res), call)) {
      deny403(res, ctx.audit, denialReason(principalOf(res), ['supervisor'], 'not_call_agent'), { type: 'call', id: call.callSid });
      return undefined;
    }
    return call;
  }

  // Thrown ToneguardErrors (the owning node's included, forwarded over the bus) become their JSON error in errorHandler.
  router.post('/v1/calls/:callSid/verification', auth, operators, json, async (req: Request<{ callSid: string }>, res) => {
    const call = callFor(req, res);
    if (!call) return;
    const parsed = lookupBody.safeParse(req.body ?? {});
    if (!parsed.success) return sendError(res, 422, 'invalid_request', 'accountRef must be an account reference');
    const verification = await ctx.callCommands.lookupAccount(call, parsed.data.accountRef, actorOf(principalOf(res), req.ip));
    res.json({ callSid: call.callSid, verification });
  });

  router.post('/v1/calls/:callSid/verification/otp', auth, operators, json, async (req: Request<{ callSid: string }>, res) => {
    const call = callFor(req, res);
    if (!call) return;
    const parsed = sendCodeBody.safeParse(req.body ?? {});
    if (!parsed.success) return sendError(res, 422, 'invalid_request', 'numberIndex must be the index of a number on file');
    const sent = await ctx.callCommands.sendCode(call, parsed.data.numberIndex, actorOf(principalOf(res), req.ip));
    res.status(201).json({ callSid: call.callSid, captureId: sent.captureId, verification: sent.verification });
  });

  return router;
}
