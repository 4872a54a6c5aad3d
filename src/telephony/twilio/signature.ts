import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import twilio from 'twilio';
import type { Config } from '../../config/index.js';
import { ownMediaUrl } from '../call-flow.js';
import { signatureRefused, signedWebhook, type SignatureContext, type SignatureVerdict } from '../signature-check.js';

type TwilioSignatureContext = SignatureContext & { config: Pick<Config, 'twilio' | 'publicUrl' | 'profile'> };

/** The URL Twilio signed: the configured public URL plus the request's path and query, never the Host header. */
export function publicUrlFor(publicUrl: string, pathAndQuery: string): string {
  return publicUrl.replace(/\/$/, '') + pathAndQuery;
}

/** The `wss://` form of the public URL for a WebSocket path (what Twilio signs on an upgrade). */
export function publicWsUrlFor(publicUrl: string, path: string): string {
  return publicUrlFor(publicUrl.replace(/^http/, 'ws'), path);
}

/** The `X-Twilio-Signature`-style header of a request (SignalWire's compatibility API names its own). */
export function signatureHeader(req: IncomingMessage, name = 'x-twilio-signature'): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** Only the development profile may skip checks; the startup config check warns loudly when it does. */
function validationOff(ctx: TwilioSignatureContext): boolean {
  return !ctx.config.twilio.validateSignatures && ctx.config.profile === 'development';
}

function verdict(ctx: TwilioSignatureContext, signature: string | undefined, url: string, params: Record<string, string>): SignatureVerdict {
  if (signature === undefined) return 'missing';
  return ctx.config.twilio.authToken !== '' && twilio.validateRequest(ctx.config.twilio.authToken, signature, url, params) ? 'valid' : 'invalid';
}

/**
 * Express middleware checking `X-Twilio-Signature` over the public URL and the form body
 * (mount after `express.urlencoded()`). Refuses with 403, a warning, a metric and an audit event.
 */
export function twilioSignature(ctx: TwilioSignatureContext, route: string): RequestHandler {
  return signedWebhook(ctx, 'twilio', route, (req) =>
    validationOff(ctx) ? 'valid' : verdict(ctx, signatureHeader(req), publicUrlFor(ctx.config.publicUrl, req.originalUrl), (req.body ?? {}) as Record<string, string>),
  'Twilio');
}

/** Checks a WebSocket upgrade: Twilio signs the `wss://` URL with empty params (the URL of this media node). */
export function upgradeSignatureValid(ctx: TwilioSignatureContext & { config: Pick<Config, 'cluster'> }, req: IncomingMessage, route: string): boolean {
  if (validationOff(ctx)) return true;
  const result = verdict(ctx, signatureHeader(req), publicWsUrlFor(ownMediaUrl(ctx.config), req.url ?? '/'), {});
  if (result !== 'valid') signatureRefused(ctx, 'twilio', route, req.socket.remoteAddress, result);
  return result === 'valid';
}
