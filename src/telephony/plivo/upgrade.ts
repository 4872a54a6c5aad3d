import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Config } from '../../config/index.js';
import { ownMediaUrl } from '../call-flow.js';
import { signatureRefused, type SignatureContext, type SignatureVerdict } from '../signature-check.js';
import { publicWsUrlFor, signatureHeader } from '../twilio/signature.js';
import { NONCE_HEADER, plivoSignatureValid, SIGNATURE_HEADER } from './signature.js';

export type PlivoCheckContext = SignatureContext & { config: Pick<Config, 'plivo' | 'publicUrl' | 'profile' | 'cluster'> };

/** Only the development profile may skip checks. */
export const plivoValidationOff = (ctx: PlivoCheckContext) => !ctx.config.plivo.validateSignatures && ctx.config.profile === 'development';

/**
 * The media socket's own secret, in the `<Stream>` URL (`?auth=`): Plivo's docs do not say that
 * the upgrade carries `X-Plivo-Signature-V3`, so an unsigned upgrade that presents this token is
 * admitted too. It is derived from the auth token, the same for every call (as Twilio's upgrade
 * signature is); what admits a stream to a call is still the leg's credential.
 */
export function plivoSocketToken(authToken: string): string {
  return createHmac('sha256', authToken).update('toneguard plivo media socket').digest('base64url');
}

function tokenVerdict(authToken: string, url: string): SignatureVerdict {
  const token = new URLSearchParams(url.split('?')[1] ?? '').get('auth');
  if (token === null) return 'missing';
  const given = Buffer.from(token);
  const expected = Buffer.from(plivoSocketToken(authToken));
  return authToken && given.length === expected.length && timingSafeEqual(given, expected) ? 'valid' : 'invalid';
}

/**
 * `WS /media/plivo`: a valid V3 signature over the `wss://` URL Plivo connected to (this media
 * node's own URL in cluster mode), or the socket token in it. Refusals are counted and audited.
 */
export function plivoUpgradeValid(ctx: PlivoCheckContext, req: IncomingMessage, route: string): boolean {
  if (plivoValidationOff(ctx)) return true;
  const url = req.url ?? '/';
  const signature = signatureHeader(req, SIGNATURE_HEADER);
  const signed = signature !== undefined && plivoSignatureValid(ctx.config.plivo.authToken, { method: 'GET', url: publicWsUrlFor(ownMediaUrl(ctx.config), url), params: {}, signature, nonce: signatureHeader(req, NONCE_HEADER) });
  const verdict = signed ? 'valid' : tokenVerdict(ctx.config.plivo.authToken, url);
  if (verdict !== 'valid') signatureRefused(ctx, 'plivo', route, req.socket.remoteAddress, signature !== undefined ? 'invalid' : verdict);
  return verdict === 'valid';
}
