import Telnyx from 'telnyx';
import { describe, expect, it } from 'vitest';
import { TelnyxSigner } from '../../../src/simulator/telnyx/signer.js';
import { telnyxPublicKeyValid, verifyTelnyxSignature } from '../../../src/telephony/telnyx/signature.js';

const body = JSON.stringify({ data: { event_type: 'call.initiated', payload: { call_control_id: 'v3:abc', from: '+15005550006' } } });
const now = () => Math.floor(Date.now() / 1000);

describe('Telnyx webhook signatures (Ed25519 over timestamp|body)', () => {
  const signer = new TelnyxSigner();
  const options = () => ({ publicKey: signer.publicKey, toleranceSeconds: 300, nowSeconds: now() });

  it('the simulator signs exactly as the Telnyx SDK verifies', async () => {
    const client = new Telnyx({ apiKey: 'KEY_test', publicKey: signer.publicKey });
    const event = await client.webhooks.unwrap(body, { headers: signer.headers(body) });
    expect(event).toEqual(JSON.parse(body));
    await expect(client.webhooks.unwrap(`${body} `, { headers: signer.headers(body) })).rejects.toThrow();
  });

  it('accepts a signed webhook', async () => {
    expect(await verifyTelnyxSignature(body, signer.headers(body), options())).toEqual({ ok: true });
  });

  it('refuses a changed body, another key, a missing or malformed header', async () => {
    const headers = signer.headers(body);
    expect(await verifyTelnyxSignature(body.replace('+15005550006', '+15005550007'), headers, options())).toEqual({ ok: false, reason: 'invalid' });
    expect(await verifyTelnyxSignature(body, headers, { ...options(), publicKey: new TelnyxSigner().publicKey })).toEqual({ ok: false, reason: 'invalid' });
    expect(await verifyTelnyxSignature(body, { 'telnyx-timestamp': headers['telnyx-timestamp'] }, options())).toEqual({ ok: false, reason: 'missing' });
    expect(await verifyTelnyxSignature(body, { 'telnyx-signature-ed25519': headers['telnyx-signature-ed25519'] }, options())).toEqual({ ok: false, reason: 'missing' });
    expect(await verifyTelnyxSignature(body, { ...headers, 'telnyx-signature-ed25519': 'not base64!' }, options())).toEqual({ ok: false, reason: 'invalid' });
    expect(await verifyTelnyxSignature(body, { ...headers, 'telnyx-signature-ed25519': Buffer.alloc(64).toString('base64') }, options())).toEqual({ ok: false, reason: 'invalid' });
    expect(await verifyTelnyxSignature(body, { ...headers, 'telnyx-timestamp': '12e5' }, options())).toEqual({ ok: false, reason: 'invalid' });
    expect(await verifyTelnyxSignature(body, headers, { ...options(), publicKey: '' })).toEqual({ ok: false, reason: 'missing' });
  });

  it('the timestamp is part of what is signed', async () => {
    const headers = signer.headers(body);
    const shifted = { ...headers, 'telnyx-timestamp': String(Number(headers['telnyx-timestamp']) - 1) };
    expect(await verifyTelnyxSignature(body, shifted, options())).toEqual({ ok: false, reason: 'invalid' });
  });

  it('refuses a replay outside the window, on our clock, and never widens the SDK window', async () => {
    const old = signer.headers(body, now() - 120);
    expect(await verifyTelnyxSignature(body, old, options())).toEqual({ ok: true });
    expect(await verifyTelnyxSignature(body, old, { ...options(), toleranceSeconds: 60 })).toEqual({ ok: false, reason: 'stale' });
    const future = signer.headers(body, now() + 400);
    expect(await verifyTelnyxSignature(body, future, { ...options(), toleranceSeconds: 3600 })).toEqual({ ok: false, reason: 'stale' });
  });

  it('checks the configured key at startup', () => {
    expect(telnyxPublicKeyValid(signer.publicKey)).toBe(true);
    expect(telnyxPublicKeyValid('')).toBe(false);
    expect(telnyxPublicKeyValid(Buffer.alloc(31).toString('base64'))).toBe(false);
    expect(telnyxPublicKeyValid('%%%')).toBe(false);
  });
});
