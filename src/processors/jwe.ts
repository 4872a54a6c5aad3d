import { CompactEncrypt, importJWK, type JWK } from 'jose';
import { ToneguardError } from '../errors.js';

export const KEY_ALGS = ['RSA-OAEP-256', 'ECDH-ES+A256KW'] as const;
export type KeyAlg = (typeof KEY_ALGS)[number];
export const CONTENT_ENC = 'A256GCM';

/** The key-management algorithm for a public encryption key: its own `alg`, else the one its type allows. */
export function keyAlgFor(jwk: JWK, preferred?: KeyAlg): KeyAlg {
  const alg = preferred ?? jwk.alg;
  if (alg !== undefined) {
    if (!(KEY_ALGS as readonly string[]).includes(alg)) {
      throw new ToneguardError('processor_key_unsupported', `encryption algorithm ${alg} is not supported`, 500);
    }
    return alg as KeyAlg;
  }
  if (jwk.kty === 'RSA') return 'RSA-OAEP-256';
  if (jwk.kty === 'EC' || jwk.kty === 'OKP') return 'ECDH-ES+A256KW';
  throw new ToneguardError('processor_key_unsupported', `key type ${String(jwk.kty)} cannot encrypt`, 500);
}

/** A public JWK fit to encrypt to: no private part, and meant for encryption when it says. */
export function isPublicEncryptionKey(jwk: JWK): boolean {
  return jwk.d === undefined && (jwk.use === undefined || jwk.use === 'enc');
}

/**
 * Encrypts `payload` (JSON) to a processor's public key as a compact JWE. The plaintext
 * buffer is zeroed afterwards; the caller still owns the object it passed.
 */
export async function encryptTo(jwk: JWK, payload: unknown, options: { alg?: KeyAlg; cty?: string } = {}): Promise<string> {
  const alg = keyAlgFor(jwk, options.alg);
  const key = await importJWK(jwk, alg);
  const plaintext = Buffer.from(JSON.stringify(payload), 'utf8');
  try {
    return await new CompactEncrypt(plaintext)
      .setProtectedHeader({ alg, enc: CONTENT_ENC, ...(jwk.kid ? { kid: jwk.kid } : {}), cty: options.cty ?? 'application/json' })
      .encrypt(key);
  } finally {
    plaintext.fill(0);
  }
}
