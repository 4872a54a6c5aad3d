import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { WebhookResponse } from '@jambonz/node-client';
import { describe, expect, it } from 'vitest';
import { checkJambonzSignature, jambonzSignature, jambonzSignatureHeader } from '../../../src/telephony/jambonz/signature.js';
import { jambonzWsCredentials, wsAuthValid } from '../../../src/telephony/jambonz/ws-auth.js';

const secret = 'wh_secret_0123456789abcdef';
const now = 1_780_000_000;

/** Runs @jambonz/node-client's own verifier (an Express middleware) on a signed request. */
function sdkAccepts(header: string, body: unknown): boolean {
  const req = { get: (name: string) => (name.toLowerCase() === 'jambonz-signature' ? header : undefined), body, url: '/jambonz/voice/inbound' };
  try {
    let passed = false;
    WebhookResponse.verifyJambonzSignature(secret)(req, {}, () => (passed = true));
    return passed;
  } catch {
    return false;
  }
}

describe('jambonz webhook signature', () => {
  it('signs as jambonz does: the SDK verifier accepts what we sign, over the raw JSON body (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const body = { call_sid: 'ac5c697a-0000-4000-8000-000000000001', payload: value };
        const raw = JSON.stringify(body);
        const header = jambonzSignatureHeader(secret, raw);
        expect(sdkAccepts(header, body)).toBe(true);
        expect(checkJambonzSignature(secret, header, raw, 300)).toBe('valid');
      }),
      { numRuns: 200 },
    );
  });

  it('is the documented HMAC: hex(HMAC-SHA256(secret, "t.body"))', () => {
    const raw = '{"call_sid":"abc","call_status":"completed"}';
    expect(jambonzSignature(secret, now, raw)).toBe(createHmac('sha256', secret).update(`${now}.${raw}`).digest('hex'));
    expect(jambonzSignatureHeader(secret, raw, now)).toBe(`t=${now},v1=${jambonzSignature(secret, now, raw)}`);
  });

  it('refuses missing, malformed, forged, tampered and stale signatures; accepts any matching v1', () => {
    const raw = '{"call_sid":"abc"}';
    const good = jambonzSignatureHeader(secret, raw, now);
    const check = (header: string | undefined, body = raw, at = now) => checkJambonzSignature(secret, header, body, 300, at);
    expect(check(good)).toBe('valid');
    expect(check(`t=${now},v1=${'0'.repeat(64)},v1=${jambonzSignature(secret, now, raw)}`)).toBe('valid');
    expect(check(undefined)).toBe('missing');
    expect(check('')).toBe('missing');
    expect(check(`v1=${jambonzSignature(secret, now, raw)}`)).toBe('invalid');
    expect(check(`t=${now}`)).toBe('invalid');
    expect(check(`t=${now},v0=${jambonzSignature(secret, now, raw)}`)).toBe('invalid');
    expect(check(jambonzSignatureHeader('another-secret', raw, now))).toBe('invalid');
    expect(check(good, '{"call_sid":"abd"}')).toBe('invalid');
    expect(check(good, raw, now + 301)).toBe('expired');
    expect(check(good, raw, now - 301)).toBe('expired');
    expect(check(good, raw, now + 300)).toBe('valid');
    expect(checkJambonzSignature('', good, raw, 300, now)).toBe('invalid');
    expect(check('x'.repeat(5000))).toBe('invalid');
  });
});

describe('jambonz media socket Basic auth', () => {
  const credentials = jambonzWsCredentials({ wsUsername: 'toneguard', wsPassword: '', webhookSecret: secret });
  const basic = (user: string, password: string) => ({ headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` } });

  it('derives a password from the webhook secret unless one is set', () => {
    expect(credentials.password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(credentials.password).not.toContain(secret);
    expect(jambonzWsCredentials({ wsUsername: 'u', wsPassword: 'set-one', webhookSecret: secret }).password).toBe('set-one');
  });

  it('admits exactly those credentials', () => {
    expect(wsAuthValid(basic('toneguard', credentials.password), credentials)).toBe(true);
    expect(wsAuthValid(basic('toneguard', credentials.password + 'x'), credentials)).toBe(false);
    expect(wsAuthValid(basic('other', credentials.password), credentials)).toBe(false);
    expect(wsAuthValid({ headers: {} }, credentials)).toBe(false);
    expect(wsAuthValid({ headers: { authorization: `Bearer ${credentials.password}` } }, credentials)).toBe(false);
    expect(wsAuthValid(basic('toneguard', ''), { username: 'toneguard', password: '' })).toBe(false);
  });
});
