import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'jambonz-signature';
const SCHEME = 'v1';

/** `hex(HMAC-SHA256(secret, "{t}.{body}"))`: what jambonz signs (jambonz-feature-server `lib/utils/base-requestor.js`). */
export function jambonzSignature(secret: string, timestamp: number, rawBody: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${rawBody}`, 'utf8').digest('hex');
}

/** The `Jambonz-Signature` header jambonz sends with a body: `t={unix seconds},v1={signature}`. */
export function jambonzSignatureHeader(secret: string, rawBody: string, nowSeconds = Math.floor(Date.now() / 1000)): string {
  return `t=${nowSeconds},${SCHEME}=${jambonzSignature(secret, nowSeconds, rawBody)}`;
}

export type JambonzSignatureCheck = 'valid' | 'missing' | 'invalid' | 'expired';

/**
 * Checks a `Jambonz-Signature` over the raw body (never a re-serialised one: JSON.stringify of
 * a parsed body need not give the bytes that were signed). Any `v1` entry may match; the
 * timestamp must lie within `toleranceSeconds` of now, either way.
 */
export function checkJambonzSignature(
  secret: string,
  header: string | undefined,
  rawBody: string,
  toleranceSeconds: number,
  nowSeconds = Math.floor(Date.now() / 1000),
): JambonzSignatureCheck {
  if (!header) return 'missing';
  if (!secret || header.length > 1024) return 'invalid';
  let timestamp: number | undefined;
  const signatures: Buffer[] = [];
  for (const item of header.split(',')) {
    const at = item.indexOf('=');
    const key = item.slice(0, at).trim();
    const value = item.slice(at + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === SCHEME && /^[0-9a-f]{64}$/i.test(value)) signatures.push(Buffer.from(value.toLowerCase()));
  }
  if (timestamp === undefined || signatures.length === 0) return 'invalid';
  const expected = Buffer.from(jambonzSignature(secret, timestamp, rawBody));
  if (!signatures.some((given) => given.length === expected.length && timingSafeEqual(given, expected))) return 'invalid';
  return Math.abs(nowSeconds - timestamp) > toleranceSeconds ? 'expired' : 'valid';
}
