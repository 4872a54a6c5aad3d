import fc from 'fast-check';
import { generateKeyPair, SignJWT } from 'jose';
import type { Config } from '../../../src/config/index.js';
import { hostileText } from './values.js';

const FIELD_NAMES = ['card_number', 'expiry', 'cvv', 'postal_code', 'routing_number', 'account_number', 'ssn', 'digits'];

const fieldRequest = fc.oneof(
  fc.constantFrom(...FIELD_NAMES),
  hostileText,
  fc.record({ name: fc.oneof(fc.constantFrom(...FIELD_NAMES), hostileText), mask: fc.oneof(fc.constantFrom('tones', 'all'), hostileText), requireMatching: fc.jsonValue() }, { requiredKeys: ['name'] }),
  fc.jsonValue(),
);

/** Start-capture bodies near the schema (so some are valid) and far from it. */
export const captureBody: fc.Arbitrary<string> = fc.oneof(
  fc.subarray(['card_number', 'expiry', 'cvv', 'postal_code'], { minLength: 1 }).map((fields) => JSON.stringify({ fields })),
  fc
    .record(
      {
        fields: fc.oneof(fc.array(fieldRequest, { maxLength: 20 }), fc.jsonValue()),
        options: fc.oneof(
          fc.record(
            { maxAttempts: fc.oneof(fc.integer(), fc.double()), firstDigitTimeoutMs: fc.integer(), totalTimeoutMs: fc.integer(), mask: hostileText, subjectId: hostileText },
            { requiredKeys: [] },
          ),
          fc.jsonValue(),
        ),
        mode: fc.oneof(fc.constantFrom('inline', 'twilio-pay'), hostileText),
      },
      { requiredKeys: ['fields'] },
    )
    .map((body) => JSON.stringify(body)),
  fc.jsonValue().map((value) => JSON.stringify(value)),
  hostileText,
);

/** Mostly JSON as the API expects, sometimes a type or charset its parser refuses or skips. */
export const bodyType: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constant('application/json') },
  { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'application/octet-stream') },
);

/** A capture or field id for the cancel and reset routes; URL-encoded so every one reaches the router. */
export const pathSegment: fc.Arbitrary<string> = fc.oneof(fc.uuid(), hostileText.filter((v) => v.length > 0 && v.length < 300)).map(encodeURIComponent);

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Tokens built outside fast-check (async signing): an `alg: none` token and one signed by a stranger's key. */
export async function foreignTokens(config: Config, sub: string): Promise<{ algNone: string; wrongKey: string }> {
  const claims = { sub, [config.auth.roleClaim]: ['agent', 'supervisor'], iss: config.auth.issuer, aud: config.auth.audience, exp: Math.floor(Date.now() / 1000) + 3600 };
  const { privateKey } = await generateKeyPair('ES256');
  const wrongKey = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'JWT' }).sign(privateKey);
  return { algNone: `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`, wrongKey };
}

/** Flips one bit in the decoded bytes of one JWT segment (never a base64 padding bit, which some decoders ignore). */
export function flipBit(token: string, segment: number, position: number, bit: number): string {
  const parts = token.split('.');
  const bytes = Buffer.from(parts[segment % 3]!, 'base64url');
  if (bytes.length === 0) return `${token}x`;
  bytes[position % bytes.length]! ^= 1 << bit;
  parts[segment % 3] = bytes.toString('base64url');
  return parts.join('.');
}

/** `Authorization` header values that must all be refused with 401, derived from a valid token and foreign ones. */
export function badAuthorization(valid: string, foreign: { algNone: string; wrongKey: string }): fc.Arbitrary<string> {
  const printable = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 400 });
  return fc.oneof(
    fc.constant(`Bearer ${foreign.algNone}`),
    fc.constant(`Bearer ${foreign.wrongKey}`),
    fc.integer({ min: 0, max: valid.length - 1 }).map((n) => `Bearer ${valid.slice(0, n)}`),
    fc.tuple(fc.nat(2), fc.nat(), fc.integer({ min: 0, max: 7 })).map(([segment, position, bit]) => `Bearer ${flipBit(valid, segment, position, bit)}`),
    printable.map((token) => `Bearer ${token}`),
    fc.constantFrom('', 'Bearer', 'Bearer ', `Basic ${valid}`, `bearer  ${valid}`, `Bearer ${valid} extra`, `Token ${valid}`),
  );
}
