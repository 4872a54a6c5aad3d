import { randomUUID } from 'node:crypto';
import { SignJWT, compactDecrypt } from 'jose';
import { CLIENT_ASSERTION_TYPE } from '../../src/processors/client-auth.js';
import { enrollProcessor } from '../../src/processors/enrollment.js';
import { processorKeyPairs, type ProcessorKeyPairs } from '../processors/keys.js';

export interface Puller {
  name: string;
  keys: ProcessorKeyPairs;
}

/** A `vault`-type processor enrolled in `dataDir` (before the service starts, or while it runs). */
export async function enrollPuller(dataDir: string, name = 'puller', keys?: ProcessorKeyPairs): Promise<Puller> {
  const pair = keys ?? (await processorKeyPairs(name));
  await enrollProcessor(dataDir, name, pair.jwks);
  return { name, keys: pair };
}

export interface DetokenizeAnswer {
  status: number;
  /** The decrypted record on 200; the JSON error otherwise. */
  body: { fields?: Record<string, string>; error?: { code: string } } & Record<string, unknown>;
}

/** `POST /v1/detokenize` as the processor does it: a private_key_jwt assertion, a JWE answer. */
export async function detokenizeVia(serviceUrl: string, publicUrl: string, puller: Puller, token: string): Promise<DetokenizeAnswer> {
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: puller.keys.sigKid })
    .setIssuer(puller.name)
    .setSubject(puller.name)
    .setAudience(`${publicUrl}/v1/detokenize`)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime('2m')
    .sign(puller.keys.sigPrivate);
  const res = await fetch(`${serviceUrl}/v1/detokenize`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion }),
  });
  const text = await res.text();
  if (res.status !== 200) return { status: res.status, body: JSON.parse(text) };
  const { plaintext } = await compactDecrypt(text, puller.keys.encPrivate);
  return { status: 200, body: JSON.parse(Buffer.from(plaintext).toString('utf8')) };
}
