import fc from 'fast-check';
import plivo from 'plivo';
import { describe, expect, it } from 'vitest';
import { plivoSignatureValid, plivoSignedUrl, plivoV3Signature } from '../../../src/telephony/plivo/signature.js';

const token = 'MzYxOGQ5ZWU2ZDA1NDZkNDk2YjlmNjAyZTUwMmNhNz';
const nonce = '05429567804466091622';

// Plivo's SDK UTF-8-encodes its inputs a second time, so only ASCII gives both sides the same bytes;
// `%` and `+` are left out of query text because the SDK (querystring) and URLSearchParams decode them alike only when well-formed.
// Keys such as `constructor` trip the SDK's own merge (`key in params`), so they stay out.
const word = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/).filter((key) => !(key in Object.prototype));
const text = fc.stringMatching(/^[ -~]{0,24}$/);
const queryText = fc.stringMatching(/^[A-Za-z0-9_.~-]{0,16}$/);
const params = fc.dictionary(word, fc.oneof(text, fc.array(text, { minLength: 1, maxLength: 3 })), { maxKeys: 6 });
const query = fc.array(fc.tuple(word, queryText), { maxLength: 4 });
const url = fc.record({ scheme: fc.constantFrom('https', 'http'), port: fc.constantFrom('', ':8443'), path: fc.constantFrom('/plivo/voice/inbound', '/plivo/voice/agent', '/', ''), query });

const urlOf = (u: { scheme: string; port: string; path: string; query: [string, string][] }) =>
  `${u.scheme}://toneguard.example.com${u.port}${u.path}${u.query.length ? '?' + u.query.map(([k, v]) => `${k}=${v}`).join('&') : ''}`;

describe('Plivo X-Plivo-Signature-V3', () => {
  it('signs POSTs exactly as the plivo SDK validates them (property)', () => {
    fc.assert(
      fc.property(url, params, (u, body) => {
        const uri = urlOf(u);
        const signature = plivoV3Signature(token, 'POST', uri, body, nonce);
        expect(plivo.validateV3Signature('POST', uri, nonce, token, signature, structuredClone(body))).toBe(true);
        expect(plivoSignatureValid(token, { method: 'POST', url: uri, params: body, signature, nonce })).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('signs GETs exactly as the plivo SDK validates them (property)', () => {
    fc.assert(
      fc.property(url, params, (u, body) => {
        const uri = urlOf(u);
        const signature = plivoV3Signature(token, 'GET', uri, body, nonce);
        expect(plivo.validateV3Signature('GET', uri, nonce, token, signature, structuredClone(body))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('builds the signed URL the documented way', () => {
    expect(plivoSignedUrl('POST', 'https://h.example/a', {})).toBe('https://h.example/a');
    expect(plivoSignedUrl('POST', 'https://h.example/a', { To: '2', From: '1' })).toBe('https://h.example/a?From1To2');
    expect(plivoSignedUrl('POST', 'https://h.example/a?z=1&b=2', { To: '2' })).toBe('https://h.example/a?b=2&z=1.To2');
    expect(plivoSignedUrl('POST', 'https://h.example/a?z=1', {})).toBe('https://h.example/a?z=1');
    expect(plivoSignedUrl('GET', 'https://h.example/a?z=1', { b: ['3', '2'] })).toBe('https://h.example/a?b=2&b=3&z=1');
  });

  it('accepts any of several comma-separated signatures and refuses everything else', () => {
    const uri = 'https://toneguard.example.com/plivo/voice/inbound';
    const body = { CallUUID: 'c0ffee00-0000-4000-8000-000000000001', From: '+15005550006' };
    const good = plivoV3Signature(token, 'POST', uri, body, nonce);
    const request = { method: 'POST' as const, url: uri, params: body, nonce };
    expect(plivoSignatureValid(token, { ...request, signature: `bm90IGl0,${good}` })).toBe(true);
    expect(plivoSignatureValid(token, { ...request, signature: undefined })).toBe(false);
    expect(plivoSignatureValid(token, { ...request, signature: good, nonce: undefined })).toBe(false);
    expect(plivoSignatureValid(token, { ...request, signature: good, nonce: 'other' })).toBe(false);
    expect(plivoSignatureValid('', { ...request, signature: good })).toBe(false);
    expect(plivoSignatureValid('another-token', { ...request, signature: good })).toBe(false);
    expect(plivoSignatureValid(token, { ...request, params: { ...body, From: '+15005550007' }, signature: good })).toBe(false);
    expect(plivoSignatureValid(token, { ...request, url: uri + '?x=1', signature: good })).toBe(false);
    // The SDK agrees on the refusals.
    expect(plivo.validateV3Signature('POST', uri, nonce, 'another-token', good, { ...body })).toBe(false);
  });
});
