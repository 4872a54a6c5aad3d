import { exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import type { ServiceSigner } from '../../src/processors/types.js';

export interface ProcessorKeyPairs {
  /** The public JWKS a processor enrolls or publishes. */
  jwks: { keys: JWK[] };
  encPrivate: CryptoKey;
  sigPrivate: CryptoKey;
  sigKid: string;
}

/** A processor's keys: an encryption key pair (RSA-OAEP-256 or ECDH-ES) and an ES256 signing pair. */
export async function processorKeyPairs(name: string, enc: 'RSA-OAEP-256' | 'ECDH-ES+A256KW' = 'RSA-OAEP-256'): Promise<ProcessorKeyPairs> {
  const encPair = await generateKeyPair(enc, { extractable: true, ...(enc === 'ECDH-ES+A256KW' ? { crv: 'P-256' } : {}) });
  const sigPair = await generateKeyPair('ES256', { extractable: true });
  const encJwk = { ...(await exportJWK(encPair.publicKey)), use: 'enc', alg: enc, kid: `${name}-enc-1` };
  const sigJwk = { ...(await exportJWK(sigPair.publicKey)), use: 'sig', alg: 'ES256', kid: `${name}-sig-1` };
  return { jwks: { keys: [encJwk, sigJwk] }, encPrivate: encPair.privateKey, sigPrivate: sigPair.privateKey, sigKid: sigJwk.kid };
}

/** A service signing key and its public JWKS, as the platform's key would provide. */
export async function serviceSigner(): Promise<{ signer: ServiceSigner; jwks: { keys: JWK[] } }> {
  const pair = await generateKeyPair('ES256', { extractable: true });
  const kid = 'toneguard-test-sig';
  return {
    signer: { kid, alg: 'ES256', key: pair.privateKey },
    jwks: { keys: [{ ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256', use: 'sig' }] },
  };
}
