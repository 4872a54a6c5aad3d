import { exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { ServiceSigningKey, getServiceJwks } from '../../src/audit/service-key.js';
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

/** The service signing key and its public JWKS, as the platform provides them. */
export function serviceSigner(): { signer: ServiceSigner; jwks: { keys: JWK[] } } {
  const key = ServiceSigningKey.generate();
  return { signer: key, jwks: getServiceJwks(key) };
}
