import { verifySignature } from '@vonage/jwt';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { VonageSigner } from '../../../src/simulator/vonage/signer.js';
import { verifyVonageRequest } from '../../../src/telephony/vonage/signature.js';

const now = () => Math.floor(Date.now() / 1000);
const body = JSON.stringify({ uuid: '63f61863-4a51-4f6b-86e1-46edebcf9356', status: 'completed', conversation_uuid: 'CON-1' });

describe('Vonage signed webhooks (HS256 JWT with the signature secret, payload_hash)', () => {
  const signer = new VonageSigner();
  const options = (extra: Partial<Parameters<typeof verifyVonageRequest>[2]> = {}) => ({ signatureSecret: signer.signatureSecret, apiKey: signer.apiKey, maxTokenAgeSeconds: 300, nowSeconds: now(), ...extra });

  it('the simulator signs what the Vonage SDK verifies, with the secret and nothing else', async () => {
    const token = await signer.token(body);
    expect(verifySignature(token, signer.signatureSecret)).toBe(true);
    expect(verifySignature(token, 'another secret of the same length.....')).toBe(false);
  });

  it('accepts a signed webhook and returns its claims', async () => {
    const check = verifyVonageRequest(await signer.authorization(body), [body], options());
    expect(check).toMatchObject({ ok: true, claims: { api_key: signer.apiKey, application_id: signer.applicationId } });
  });

  it('refuses no token, a malformed header, another secret, another account', async () => {
    expect(verifyVonageRequest(undefined, [body], options())).toEqual({ ok: false, reason: 'missing' });
    expect(verifyVonageRequest('Basic abc', [body], options())).toEqual({ ok: false, reason: 'invalid' });
    expect(verifyVonageRequest(`Bearer ${await signer.token(body, now(), 'wrong-secret')}`, [body], options())).toEqual({ ok: false, reason: 'invalid' });
    expect(verifyVonageRequest(await signer.authorization(body), [body], options({ apiKey: 'ffff0000' }))).toEqual({ ok: false, reason: 'invalid' });
    expect(verifyVonageRequest(await signer.authorization(body), [body], options({ signatureSecret: '' }))).toEqual({ ok: false, reason: 'invalid' });
  });

  it('refuses a token whose payload_hash does not cover this body, or that has none', async () => {
    const other = body.replace('completed', 'answered');
    expect(verifyVonageRequest(await signer.authorization(body), [other], options())).toEqual({ ok: false, reason: 'payload_mismatch' });
    expect(verifyVonageRequest(await signer.authorization(), [body], options())).toEqual({ ok: false, reason: 'payload_mismatch' });
    // An upgrade has no payload: a token without payload_hash is fine there.
    expect(verifyVonageRequest(await signer.authorization(), [], options()).ok).toBe(true);
  });

  it('accepts a payload_hash over any of the candidate serialisations, hex or base64', async () => {
    const spaced = JSON.stringify(JSON.parse(body), null, 1);
    expect(verifyVonageRequest(await signer.authorization(body), [spaced, body], options()).ok).toBe(true);
    const { createHash } = await import('node:crypto');
    const b64 = createHash('sha256').update(body).digest('base64');
    const token = await new SignJWT({ payload_hash: b64, api_key: signer.apiKey }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().sign(Buffer.from(signer.signatureSecret));
    expect(verifyVonageRequest(`Bearer ${token}`, [body], options()).ok).toBe(true);
  });

  it('refuses tokens issued outside the window, or without iat', async () => {
    expect(verifyVonageRequest(await signer.authorization(body, now() - 600), [body], options())).toEqual({ ok: false, reason: 'stale' });
    expect(verifyVonageRequest(await signer.authorization(body, now() + 600), [body], options())).toEqual({ ok: false, reason: 'stale' });
    const noIat = await new SignJWT({ api_key: signer.apiKey }).setProtectedHeader({ alg: 'HS256' }).sign(Buffer.from(signer.signatureSecret));
    expect(verifyVonageRequest(`Bearer ${noIat}`, [], options())).toEqual({ ok: false, reason: 'stale' });
  });

  it('refuses alg none and asymmetric algorithms even where the SDK would try them', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ iat: now(), api_key: signer.apiKey })).toString('base64url');
    expect(verifyVonageRequest(`Bearer ${header}.${payload}.x`, [], options())).toEqual({ ok: false, reason: 'invalid' });
    const rs = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT' })).toString('base64url');
    expect(verifyVonageRequest(`Bearer ${rs}.${payload}.eHh4`, [], options())).toEqual({ ok: false, reason: 'invalid' });
    expect(verifyVonageRequest('Bearer a.b.c', [], options())).toEqual({ ok: false, reason: 'invalid' });
  });
});
