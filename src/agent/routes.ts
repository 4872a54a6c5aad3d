import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import type { LocatedView } from '../cluster/capture-views.js';
import { sendError } from '../http/errors.js';
import { identityRateLimit } from '../http/rate-limit.js';
import { getServiceJwks } from '../audit/service-key.js';
import { actorOf, authenticate, deny403, denialReason, principalOf, requireRole, ROLES, type TokenVerifier } from './auth.js';
import { maySeeCall } from './visibility.js';
import { agentCallView } from './call-view.js';
import { createAdminRouter } from './admin-routes.js';
import { createVerificationRouter } from './verification-routes.js';
import { devIssuerEnabled, loadDevIssuerKey, mintDevToken } from './dev-issuer.js';

const fieldRequest = z.union([
  z.string().min(1).max(64),
  z.strictObject({ name: z.string().min(1).max(64), mask: z.enum(['tones', 'all']).optional(), requireMatching: z.boolean().optional() }),
]);

const startCaptureBody = z.strictObject({
  fields: z.array(fieldRequest).min(1).max(16),
  options: z
    .strictObject({
      requireMatching: z.boolean().optional(),
      maxAttempts: z.int().min(1).max(10).optional(),
      firstDigitTimeoutMs: z.int().min(1000).max(600_000).optional(),
      interDigitTimeoutMs: z.int().min(1000).max(600_000).optional(),
      totalTimeoutMs: z.int().min(1000).max(3_600_000).optional(),
      mask: z.enum(['tones', 'all']).optional(),
      subjectId: z.string().min(1).max(128).optional(),
    })
    .optional(),
  mode: z.enum(['inline', 'twilio-pay']).optional(),
});

const devTokenBody = z.strictObject({ sub: z.string().min(1).max(128), role: z.enum(ROLES) });

/** Refuses a call another agent holds; a supervisor's token without MFA is told so. */
function denyCall(ctx: AppContext, res: Response, resource: { type: string; id: string }): void {
  deny403(res, ctx.audit, denialReason(principalOf(res), ['supervisor'], 'not_call_agent'), resource);
}

/**
 * The agent REST API (`/v1/me`, `/v1/calls`, `/v1/captures/...`), the admin and auditor routes,
 * the JWKS document and the development token endpoint.
 */
export function createAgentRouter(ctx: AppContext, verifier: TokenVerifier): Router {
  const router = express.Router();
  const json = express.json({ limit: ctx.config.http.bodyLimitBytes });
  const auth = authenticate(verifier, ctx.audit);
  const operators = requireRole(ctx.audit, 'agent', 'supervisor');

  router.get('/.well-known/jwks.json', (_req, res) => {
    const doc = getServiceJwks(ctx.serviceKey);
    if (devIssuerEnabled(ctx.config)) doc.keys.push(loadDevIssuerKey(ctx.config.dataDir).publicJwk);
    res.json(doc);
  });

  if (devIssuerEnabled(ctx.config)) {
    router.post('/v1/dev/token', json, async (req, res) => {
      const parsed = devTokenBody.safeParse(req.body);
      if (!parsed.success) return sendError(res, 422, 'invalid_request', 'sub and a known role are required');
      res.status(201).json({ token: await mintDevToken(ctx.config, parsed.data) });
    });
  }

  router.get('/v1/me', auth, (_req, res) => {
    const principal = principalOf(res);
    res.json({ sub: principal.sub, roles: principal.roles, calls: principal.roles.includes('agent') ? ctx.calls.forAgent(principal.sub).map(agentCallView) : [] });
  });

  router.get('/v1/calls', auth, operators, (_req, res) => {
    const principal = principalOf(res);
    res.json({ calls: ctx.calls.list().filter((c) => c.state !== 'ended' && maySeeCall(principal, c)).map(agentCallView) });
  });

  const startLimit = identityRateLimit({
    windowMs: 60_000,
    limit: ctx.config.http.captureStartsPerMinutePerAgent,
    key: (req) => (req.res ? principalOf(req.res)?.sub : undefined),
    name: 'capture-starts',
    ...(ctx.cluster.rateLimitStores ? { stores: ctx.cluster.rateLimitStores } : {}),
  });

  // Thrown ToneguardErrors (the owning node's included, forwarded over the bus) become their JSON error in errorHandler.
  router.post('/v1/calls/:callSid/captures', auth, operators, startLimit, json, async (req: Request<{ callSid: string }>, res) => {
    const principal = principalOf(res);
    const call = ctx.calls.get(req.params.callSid);
    if (!call || call.state === 'ended') return sendError(res, 404, 'call_not_found', 'no such live call');
    if (!maySeeCall(principal, call)) return denyCall(ctx, res, { type: 'call', id: call.callSid });
    if (call.unbound) return sendError(res, 409, 'call_unbound', 'no agent is bound to this call, so no capture can start on it');
    const parsed = startCaptureBody.safeParse(req.body ?? {});
    if (!parsed.success) return sendError(res, 422, 'invalid_request', 'the capture request does not match the schema');
    const { fields, options, mode } = parsed.data;
    const started = await ctx.callCommands.startCapture(call, {
      callSid: call.callSid,
      fields: fields.map((f) => (typeof f === 'string' ? { name: f } : f)),
      ...(options ? { options } : {}),
      ...(mode ? { mode } : {}),
      actor: actorOf(principal, req.ip),
    });
    res.status(201).json(started);
  });

  /** Finds a capture (on any node) the caller may act on, or answers 404/403 itself. */
  async function captureFor(req: Request<{ id: string }>, res: Response): Promise<LocatedView | undefined> {
    const located = await ctx.captureViews.find(req.params.id);
    if (!located) {
      sendError(res, 404, 'capture_not_found', 'no such capture');
      return undefined;
    }
    if (!maySeeCall(principalOf(res), ctx.calls.get(located.view.callSid))) {
      denyCall(ctx, res, { type: 'capture', id: located.view.id });
      return undefined;
    }
    return located;
  }

  router.get('/v1/captures/:id', auth, operators, async (req: Request<{ id: string }>, res) => {
    const located = await captureFor(req, res);
    if (located) res.json({ id: located.view.id, view: located.view });
  });

  router.post('/v1/captures/:id/cancel', auth, operators, async (req: Request<{ id: string }>, res) => {
    const located = await captureFor(req, res);
    if (located) res.json(await ctx.callCommands.cancelCapture(located, actorOf(principalOf(res), req.ip)));
  });

  router.post('/v1/captures/:id/fields/:field/reset', auth, operators, async (req: Request<{ id: string; field: string }>, res) => {
    const located = await captureFor(req, res);
    if (located) res.json(await ctx.callCommands.resetField(located, req.params.field, actorOf(principalOf(res), req.ip)));
  });

  router.use(createVerificationRouter(ctx, auth, operators));
  router.use(createAdminRouter(ctx, verifier));
  return router;
}
