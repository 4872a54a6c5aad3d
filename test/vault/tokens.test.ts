import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { luhnValid } from '../../src/capture/checksums.js';
import { asciiDigits } from '../../src/capture/digits.js';
import { cardAlias, newToken, TOKEN_PATTERN } from '../../src/vault/index.js';

describe('tokens', () => {
  it('are tok_ plus 144 random bits in base64url, never repeating', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const token = newToken();
      expect(token).toMatch(TOKEN_PATTERN);
      seen.add(token);
    }
    expect(seen.size).toBe(20_000);
    expect(Buffer.from(newToken().slice(4), 'base64url')).toHaveLength(18);
  });

  it('use every base64url character about equally (no structure a value could leak through)', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 4_000; i++) for (const ch of newToken().slice(4)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect(counts.size).toBe(64);
    const expected = (4_000 * 24) / 64;
    for (const n of counts.values()) expect(Math.abs(n - expected) / expected).toBeLessThan(0.2);
  });
});

describe('format-preserving alias', () => {
  const pan = fc
    .tuple(fc.integer({ min: 12, max: 19 }), fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 19, maxLength: 19 }))
    .map(([length, digits]) => digits.slice(0, length).join(''));

  it('keeps the length and last four digits and always fails Luhn', () => {
    fc.assert(
      fc.property(pan, (value) => {
        const alias = cardAlias(asciiDigits(value));
        expect(alias).toMatch(/^\d+$/);
        expect(alias).toHaveLength(value.length);
        expect(alias.slice(-4)).toBe(value.slice(-4));
        expect(luhnValid(alias)).toBe(false);
      }),
      { numRuns: 2_000 },
    );
  });

  it('randomises the digits before the last four', () => {
    const aliases = new Set(Array.from({ length: 200 }, () => cardAlias(asciiDigits('4111111111111111')).slice(0, 12)));
    expect(aliases.size).toBe(200);
  });
});
