import { describe, expect, it } from 'vitest';
import { randomBytes } from '../../src/vault/random.js';

describe('pooled random bytes', () => {
  it('hands out every byte once, across pool refills, as copies of the requested size', () => {
    // 12-byte IVs, far more than one 4 KiB pool holds: a repeat would be a reused GCM nonce.
    const seen = new Set<string>();
    for (let i = 0; i < 5_000; i++) {
      const iv = randomBytes(12);
      expect(iv).toHaveLength(12);
      seen.add(iv.toString('hex'));
    }
    expect(seen.size).toBe(5_000);
  });

  it('gives the caller its own bytes: zeroing a key does not touch the next draw', () => {
    const key = randomBytes(32);
    const before = Buffer.from(key);
    const next = randomBytes(32);
    key.fill(0);
    expect(next.equals(before)).toBe(false);
    expect(next.every((b) => b === 0)).toBe(false);
  });

  it('serves sizes beyond the pool straight from the CSPRNG', () => {
    const big = randomBytes(10_000);
    expect(big).toHaveLength(10_000);
    expect(new Set(big).size).toBeGreaterThan(200);
  });
});
