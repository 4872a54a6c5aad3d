import express, { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { Logger } from '../audit/logger.js';
import type { Metrics } from '../audit/metrics.js';
import type { Actor, AuditSink } from '../audit/types.js';
import { ToneguardError, isToneguardError } from '../errors.js';
import { identityRateLimit } from '../http/rate-limit.js';
import { RecordNotBoundError } from '../vault/binding.js';
import type { Vault } from '../vault/types.js';
import { authenticateProcessor, type ProcessorIdentity } from './client-auth.js';
import type { AssertionReplay } from './replay-store.js';
import { encryptTo } from './jwe.js';
import type { ProcessorRegistry } from './registry.js';
import { recordPayload } from './types.js';

export const DETOKENIZE_PATH = '/v1/detokenize';
export const DETOKENIZE_CONTENT_TYPE = 'application/jose';

export interface DetokenizeDeps {
  vault: Vault;
  registry: ProcessorRegistry;
  audit: AuditSink;
  logger: Logger;
  metrics: Metrics;
  /** Our public URL; client assertions must name `{publicUrl}/v1/detokenize` as their audience. */
  publicUrl: string;
  requestsPerMinute: number;
  bodyLimitBytes: number;
  /** Assertion ids already used: a durable store, so a restart does not reopen replays. */
  replay: AssertionReplay;
  /** How far ahead an assertion's `exp` may lie. */
  maxAssertionLifetimeSec: number;
}

const booleanish = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);
const bodySchema = z.object({
  token: z.string().min(1).max(256),
  include_cvv: booleanish.optional(),
  client_assertion_type: z.string().max(200).optional(),
  client_assertion: z.string().max(8192).optional(),
});

/**
 * `POST /v1/detokenize`: the `vault` processor type pulls card data. The caller authenticates as
 * an enrolled processor (mTLS or private_key_jwt), and the answer is a compact JWE to its enrolled
 * encryption key (`application/jose`), never plain JSON. Every call is audited and rate-limited per processor.
 */
export function detokenizeRouter(deps: DetokenizeDeps): Router {
  const router = Router();
  const audience = `${deps.publicUrl.replace(/\/$/, '')}${DETOKENIZE_PATH}`;
  const policy = { audience, replay: deps.replay, maxLifetimeSec: deps.maxAssertionLifetimeSec };
  const limiter = identityRateLimit({
    windowMs: 60_000,
    limit: deps.requestsPerMinute,
    key: (req) => (req.res?.locals.processor as ProcessorIdentity | undefined)?.processor.name,
  });
  const auditRateLimited: RequestHandler = (req, res, next) => {
    res.once('finish', () => {
      if (res.statusCode === 429) auditEvent(deps.audit, req, actorOf(res.locals.processor as ProcessorIdentity, req), 'denied', { code: 'rate_limited' });
    });
    next();
  };

  router.post(
    DETOKENIZE_PATH,
    express.json({ limit: deps.bodyLimitBytes }),
    express.urlencoded({ extended: false, limit: deps.bodyLimitBytes }),
    async (req: Request, res: Response, next: NextFunction) => {
      const parsed = bodySchema.safeParse(req.body ?? {});
      try {
        res.locals.processor = await authenticateProcessor({
          socket: req.socket,
          assertionType: parsed.data?.client_assertion_type,
          assertion: parsed.data?.client_assertion ?? rawAssertion(req.body),
          registry: deps.registry,
          policy,
        });
      } catch (err) {
        const code = isToneguardError(err) ? err.code : 'client_authentication_failed';
        auditEvent(deps.audit, req, { type: 'processor', id: 'unknown', source: req.ip ?? 'unknown' }, 'denied', { code });
        next(err);
        return;
      }
      if (!parsed.success) {
        auditEvent(deps.audit, req, actorOf(res.locals.processor as ProcessorIdentity, req), 'failure', { code: 'invalid_request' });
        next(new ToneguardError('invalid_request', 'the body must hold a "token" (and optionally "include_cvv")', 400));
        return;
      }
      res.locals.request = parsed.data;
      next();
    },
    auditRateLimited,
    limiter,
    async (req: Request, res: Response, next: NextFunction) => {
      const identity = res.locals.processor as ProcessorIdentity;
      const { token, include_cvv: includeCvv = false } = res.locals.request as z.infer<typeof bodySchema>;
      const actor = actorOf(identity, req);
      const encryptionKey = identity.processor.keys.find((k) => k.use === 'enc');
      try {
        if (!encryptionKey) throw new ToneguardError('processor_key_unavailable', 'the processor has no enrolled encryption key', 500);
        const record = await deps.vault.detokenize(token, { actor, processor: identity.processor.name, includeCvv });
        const jwe = await encryptTo(encryptionKey, { token: record.info.token, ...recordPayload(record), expiresAt: record.info.expiresAt });
        auditEvent(deps.audit, req, actor, 'success', { token, method: identity.method, includeCvv, cvvReturned: record.cvv !== undefined });
        deps.logger.info({ processor: identity.processor.name, method: identity.method, cvvReturned: record.cvv !== undefined }, 'detokenized for processor');
        res.status(200).type(DETOKENIZE_CONTENT_TYPE).set('cache-control', 'no-store').send(jwe);
      } catch (err) {
        if (err instanceof RecordNotBoundError) {
          // Answered as an unknown token; only the trail and the metric say it belongs to another processor.
          deps.metrics.processorDetokenizeDenied.inc({ processor: identity.processor.name });
          auditEvent(deps.audit, req, actor, 'denied', { token, method: identity.method, includeCvv, code: 'processor_not_bound' });
        } else {
          const code = isToneguardError(err) ? err.code : 'internal_error';
          auditEvent(deps.audit, req, actor, 'failure', { token, method: identity.method, includeCvv, code });
        }
        next(err);
      }
    },
  );
  return router;
}

/** Tolerates a non-object body when looking for an assertion (so a bad body still gets an auth answer first). */
function rawAssertion(body: unknown): string | undefined {
  const value = (body as { client_assertion?: unknown } | undefined)?.client_assertion;
  return typeof value === 'string' ? value : undefined;
}

function actorOf(identity: ProcessorIdentity, req: Request): Actor {
  return { type: 'processor', id: identity.processor.name, roles: ['processor'], source: req.ip ?? 'unknown' };
}

function auditEvent(
  audit: AuditSink,
  req: Request,
  actor: Actor,
  outcome: 'success' | 'failure' | 'denied',
  details: Record<string, string | number | boolean | null> & { token?: string },
): void {
  const { token, ...rest } = details;
  audit.record({
    action: 'processor.detokenize',
    actor,
    outcome,
    ...(token ? { resource: { type: 'token', id: token } } : {}),
    source: req.ip ?? 'unknown',
    details: rest,
  });
}
