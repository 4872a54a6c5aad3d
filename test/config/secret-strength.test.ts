import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeKeyText, isPlaceholder, lowEntropyReason, weakKeyReason } from '../../src/config/secret-strength.js';

describe('secret strength', () => {
  it('never refuses random key material of 32 bytes or more, in any accepted encoding', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 64 }).filter((b) => lowEntropyReason(b) === null), fc.constantFrom('base64', 'base64url', 'hex'), (bytes, encoding) => {
        expect(weakKeyReason(Buffer.from(bytes).toString(encoding as BufferEncoding), ['hex', 'base64'])).toBeNull();
      }),
    );
    // The filter above must almost never bite on random bytes: check the rate on real randomness.
    const flagged = Array.from({ length: 2000 }, () => lowEntropyReason(randomBytes(32))).filter(Boolean);
    expect(flagged).toEqual([]);
  });

  it.each([
    ['one repeated byte', Buffer.alloc(32, 0x41), 'is one repeated byte'],
    ['a short block repeated', Buffer.from('0123456789abcdef'.repeat(2)), 'repeats a short pattern'],
    ['a counting sequence', Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 3) % 256)), 'is a counting sequence'],
    ['few distinct bytes', Buffer.from('abababababcabababababcababababcd'), 'has too few distinct bytes to be random'],
  ])('refuses %s', (_name, bytes, reason) => {
    expect(lowEntropyReason(bytes)).toBe(reason);
  });

  it('decodes strictly: a sentence is not base64, though Buffer.from would read 30-odd bytes out of it', () => {
    const sentence = 'set TONEGUARD_FINGERPRINT_KEY in the environment';
    expect(Buffer.from(sentence, 'base64').length).toBeGreaterThanOrEqual(32);
    expect(decodeKeyText(sentence)).toBeUndefined();
    expect(weakKeyReason(sentence)).toBe('is a placeholder, not a key');
    expect(weakKeyReason('fingerprint key 0123456789abcdef0123456789abcdef')).toBe('is not base64');
  });

  it.each(['set TWILIO_AUTH_TOKEN', 'changeme', '<your token>', '${TWILIO_AUTH_TOKEN}', 'xxxxxxxx', 'secret', 'replace-me-before-going-live'])('%s is a placeholder', (value) => {
    expect(isPlaceholder(value)).toBe(true);
  });
});
