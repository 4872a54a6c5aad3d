import type { RequestHandler } from 'express';
import type { Logger } from '../audit/logger.js';
import type { Metrics } from '../audit/metrics.js';
import type { AuditSink } from '../audit/types.js';

/** What a provider's signature checks report to; no wiring, so signature modules import nothing of the context. */
export interface SignatureContext {
  logger: Logger;
  audit: AuditSink;
  metrics: Metrics;
}

/** A signature check's verdict: what the request carried. */
export type SignatureVerdict = 'valid' | 'missing' | 'invalid';

/** Counts, logs and audits (`{provider}.signature_failed`) one refused signature. */
export function signatureRefused(ctx: SignatureContext, provider: string, route: string, source: string | undefined, reason: 'missing' | 'invalid'): void {
  ctx.metrics.signatureFailures.labels(route).inc();
  ctx.logger.warn({ route, source, reason }, `${provider} signature refused`);
  ctx.audit.record({
    action: `${provider}.signature_failed`,
    actor: { type: 'telephony', id: provider, source },
    outcome: 'denied',
    source,
    details: { route, source: source ?? null, reason },
  });
}

/**
 * Express middleware refusing a webhook whose `check` is not `valid`: 403, a warning, a metric and
 * an audit record. Mount after the body parser the check reads.
 */
export function signedWebhook(ctx: SignatureContext, provider: string, route: string, check: (req: Parameters<RequestHandler>[0]) => SignatureVerdict, displayName = provider): RequestHandler {
  return (req, res, next) => {
    const verdict = check(req);
    if (verdict === 'valid') return next();
    signatureRefused(ctx, provider, route, req.socket.remoteAddress, verdict);
    res.status(403).json({ error: { code: 'signature_invalid', message: `Missing or invalid ${displayName} signature` } });
  };
}
