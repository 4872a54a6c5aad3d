import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import twilio from 'twilio';
import type { AppContext } from '../../context.js';

type SignatureContext = Pick<AppContext, 'config' | 'logger' | 'audit' | 'metrics'>;

/** The URL Twilio signed: the configured public URL plus the request's path and query, never the Host header. */
export function publicUrlFor(publicUrl: string, pathAndQuery: string): string {
  return publicUrl.replace(/\/$/, '') + pathAndQuery;
}

/** The `wss://` form of the public URL for a WebSocket path (what Twilio signs on an upgrade). */
export function publicWsUrlFor(publicUrl: string, path: string): string {
  return publicUrlFor(publicUrl.replace(/^http/, 'ws'), path);
}

function signatureHeader(req: IncomingMessage): string | undefined {
  const value = req.headers['x-twilio-signature'];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function refused(ctx: SignatureContext, route: string, source: string | undefined, reason: 'missing' | 'invalid'): void {
  ctx.metrics.signatureFailures.labels(route).inc();
  ctx.logger.warn({ route, source, reason }, 'twilio signature refused');
  ctx.audit.record({
    action: 'twilio.signature_failed',
    actor: { type: 'telephony', id: 'twilio', source },
    outcome: 'denied',
    source,
    details: { route, source: source ?? null, reason },
  });
}

/** Only the development profile may skip checks; the startup config check warns loudly when it does. */
function validationOff(ctx: SignatureContext): boolean {
  return !ctx.config.twilio.validateSignatures && ctx.config.profile === 'development';
}

/**
 * Express middleware checking `X-Twilio-Signature` over the public URL and the form body
 * (mount after `express.urlencoded()`). Refuses with 403, a warning, a metric and an audit event.
 */
export function twilioSignature(ctx: SignatureContext, route: string): RequestHandler {
  return (req, res, next) => {
    if (validationOff(ctx)) return next();
    const signature = signatureHeader(req);
    const url = publicUrlFor(ctx.config.publicUrl, req.originalUrl);
    const params = (req.body ?? {}) as Record<string, string>;
    const valid = signature !== undefined && ctx.config.twilio.authToken !== '' && twilio.validateRequest(ctx.config.twilio.authToken, signature, url, params);
    if (valid) return next();
    refused(ctx, route, req.socket.remoteAddress, signature ? 'invalid' : 'missing');
    res.status(403).json({ error: { code: 'signature_invalid', message: 'Missing or invalid Twilio signature' } });
  };
}

/** Checks a WebSocket upgrade: Twilio signs the `wss://` URL with empty params. */
export function upgradeSignatureValid(ctx: SignatureContext, req: IncomingMessage, route: string): boolean {
  if (validationOff(ctx)) return true;
  const signature = signatureHeader(req);
  const url = publicWsUrlFor(ctx.config.publicUrl, req.url ?? '/');
  const valid = signature !== undefined && ctx.config.twilio.authToken !== '' && twilio.validateRequest(ctx.config.twilio.authToken, signature, url, {});
  if (!valid) refused(ctx, route, req.socket.remoteAddress, signature ? 'invalid' : 'missing');
  return valid;
}
