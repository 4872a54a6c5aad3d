import type { IncomingHttpHeaders } from 'node:http';
import { TelnyxWebhook } from 'telnyx/lib/webhooks';

/** Why a Telnyx webhook was refused; logged, counted and audited (never the header values). */
export type TelnyxSignatureRefusal = 'missing' | 'invalid' | 'stale';

export type TelnyxSignatureCheck = { ok: true } | { ok: false; reason: TelnyxSignatureRefusal };

/** The SDK refuses anything further than this from its clock; a configured window may only be narrower. */
export const SDK_TOLERANCE_SECONDS = 300;

export interface TelnyxSignatureOptions {
  /** The account's Ed25519 public key, base64 of the raw 32 bytes (Mission Control → Keys & Credentials → Public Key). */
  publicKey: string;
  /** Replay window around `nowSeconds`; at most SDK_TOLERANCE_SECONDS. */
  toleranceSeconds: number;
  nowSeconds: number;
}

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
};

/** One verifier per configured key: the SDK parses (and checks the length of) the key once. */
const verifiers = new Map<string, TelnyxWebhook>();
function verifierFor(publicKey: string): TelnyxWebhook {
  let verifier = verifiers.get(publicKey);
  if (!verifier) {
    verifier = new TelnyxWebhook(publicKey);
    verifiers.clear();
    verifiers.set(publicKey, verifier);
  }
  return verifier;
}

/** True when the configured key is usable (32 bytes of base64): checked at startup, so a typo fails loudly there. */
export function telnyxPublicKeyValid(publicKey: string): boolean {
  try {
    verifierFor(publicKey);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks `telnyx-signature-ed25519` (Ed25519 over `${telnyx-timestamp}|${rawBody}`) with the
 * Telnyx SDK's verifier, and the timestamp against our own window first (the SDK's is a fixed five
 * minutes from its own clock). Never throws; the SDK's error messages echo header values, so only
 * a reason code comes out.
 */
export async function verifyTelnyxSignature(rawBody: string, headers: IncomingHttpHeaders, options: TelnyxSignatureOptions): Promise<TelnyxSignatureCheck> {
  const signature = header(headers, 'telnyx-signature-ed25519');
  const timestamp = header(headers, 'telnyx-timestamp');
  if (!signature || !timestamp || options.publicKey === '') return { ok: false, reason: 'missing' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'invalid' };
  const tolerance = Math.min(options.toleranceSeconds, SDK_TOLERANCE_SECONDS);
  if (Math.abs(options.nowSeconds - Number(timestamp)) > tolerance) return { ok: false, reason: 'stale' };
  try {
    await verifierFor(options.publicKey).verify(rawBody, { 'telnyx-signature-ed25519': signature, 'telnyx-timestamp': timestamp });
    return { ok: true };
  } catch {
    return { ok: false, reason: 'invalid' };
  }
}
