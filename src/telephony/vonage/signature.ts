import { createHash, timingSafeEqual } from 'node:crypto';
import { verifySignature } from '@vonage/jwt';
import { decodeJwt, decodeProtectedHeader } from 'jose';

/** Why a Vonage request was refused; logged, counted and audited (never the token). */
export type VonageSignatureRefusal = 'missing' | 'invalid' | 'stale' | 'payload_mismatch';

export type VonageSignatureCheck = { ok: true; claims: VonageClaims } | { ok: false; reason: VonageSignatureRefusal };

/** The claims Toneguard reads from a Vonage webhook JWT (others are ignored). */
export interface VonageClaims {
  iat?: number;
  jti?: string;
  api_key?: string;
  application_id?: string;
  payload_hash?: string;
}

export interface VonageSignatureOptions {
  signatureSecret: string;
  /** When non-empty, the `api_key` claim must equal it. */
  apiKey: string;
  maxTokenAgeSeconds: number;
  nowSeconds: number;
}

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * True when `payload_hash` is the SHA-256 of one of the candidate serialisations of the payload.
 * Vonage's support article says the hash is over the JSON of the body (or of the query for a GET)
 * without whitespace; whether that is the bytes sent or a re-serialisation, and hex or base64, is
 * not documented, so each is tried.
 */
function payloadHashMatches(claimed: string, candidates: readonly string[]): boolean {
  for (const candidate of candidates) {
    const digest = createHash('sha256').update(candidate).digest();
    if (sameText(claimed.toLowerCase(), digest.toString('hex')) || sameText(claimed, digest.toString('base64'))) return true;
  }
  return false;
}

/**
 * Checks a Vonage signed request: `Authorization: Bearer <JWT>`, HS256 with the signature secret
 * (verified by the Vonage SDK's `verifySignature`), issued recently, for the configured account,
 * and, when the request has a payload, `payload_hash` over it. Never throws.
 *
 * `payloads` are the candidate serialisations of the request's payload (the raw body; for a GET,
 * the JSON of the query); empty for a WebSocket upgrade, which has none.
 */
export function verifyVonageRequest(authorization: string | undefined, payloads: readonly string[], options: VonageSignatureOptions): VonageSignatureCheck {
  const token = authorization ? BEARER.exec(authorization)?.[1] : undefined;
  if (!token || options.signatureSecret === '') return { ok: false, reason: authorization ? 'invalid' : 'missing' };
  let claims: VonageClaims;
  try {
    // The SDK accepts RS256 or HS256; only HS256 is a signed webhook (the secret is not a key pair).
    if (decodeProtectedHeader(token).alg !== 'HS256') return { ok: false, reason: 'invalid' };
    if (!verifySignature(token, options.signatureSecret)) return { ok: false, reason: 'invalid' };
    claims = decodeJwt(token) as VonageClaims;
  } catch {
    return { ok: false, reason: 'invalid' };
  }
  if (typeof claims.iat !== 'number' || Math.abs(options.nowSeconds - claims.iat) > options.maxTokenAgeSeconds) return { ok: false, reason: 'stale' };
  if (options.apiKey !== '' && claims.api_key !== options.apiKey) return { ok: false, reason: 'invalid' };
  const hasPayload = payloads.some((p) => p !== '' && p !== '{}');
  if (hasPayload && (typeof claims.payload_hash !== 'string' || !payloadHashMatches(claims.payload_hash, payloads))) return { ok: false, reason: 'payload_mismatch' };
  return { ok: true, claims };
}
