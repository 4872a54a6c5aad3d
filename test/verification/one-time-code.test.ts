import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { attestationOf, lastTwo, levelOf, meetsLevel, sameNumber } from '../../src/verification/levels.js';
import { OneTimeCodeChallenge } from '../../src/verification/one-time-code.js';
import { SlidingQuota } from '../../src/verification/quota.js';

const ascii = (digits: string) => new Uint8Array(Buffer.from(digits, 'latin1'));
const issue = (nowMs = 0) => OneTimeCodeChallenge.issue({ key: randomBytes(32), length: 6, ttlMs: 1000, maxAttempts: 3, nowMs });

describe('one-time code challenge', () => {
  it('issues six random digits and keeps only a digest of them', () => {
    const { challenge, code } = issue();
    expect(code).toMatch(/^\d{6}$/);
    expect(JSON.stringify(challenge)).not.toContain(code);
    expect(Object.values(challenge).some((v) => Buffer.isBuffer(v) && v.includes(Buffer.from(code)))).toBe(false);
  });

  it('matches once; a match settles it', () => {
    const { challenge, code } = issue();
    expect(challenge.check(ascii(code), 10)).toBe('match');
    expect(challenge.check(ascii(code), 11)).toBe('void');
  });

  it('voids itself after its last wrong attempt, even for the right code', () => {
    const { challenge, code } = issue();
    const wrong = code === '000000' ? '000001' : '000000';
    expect([1, 2, 3].map(() => challenge.check(ascii(wrong), 10))).toEqual(['mismatch', 'mismatch', 'mismatch']);
    expect(challenge.check(ascii(code), 10)).toBe('void');
  });

  it('refuses the right code after its time-to-live', () => {
    const { challenge, code } = issue(5000);
    expect(challenge.check(ascii(code), 6000)).toBe('expired');
    expect(challenge.isOpen(5500)).toBe(false);
  });

  it('compares entries of another length without throwing (digests are equal-sized)', () => {
    const { challenge } = issue();
    expect(challenge.check(ascii('12'), 10)).toBe('mismatch');
  });
});

describe('verification levels', () => {
  it('reads the STIR/SHAKEN attestation only from a passed validation', () => {
    expect(attestationOf('TN-Validation-Passed-A')).toBe('A');
    expect(attestationOf('TN-Validation-Passed-C')).toBe('C');
    expect(attestationOf('TN-Validation-Failed-A')).toBeNull();
    expect(attestationOf('No-TN-Validation')).toBeNull();
    expect(attestationOf(undefined)).toBeNull();
  });

  it('orders the levels and needs full attestation for the number on file', () => {
    expect(levelOf({ attestation: 'B', callerIdOnFile: true, otpVerified: false })).toBe('none');
    expect(levelOf({ attestation: 'A', callerIdOnFile: false, otpVerified: false })).toBe('attested');
    expect(levelOf({ attestation: 'A', callerIdOnFile: true, otpVerified: false })).toBe('number_on_file');
    expect(levelOf({ attestation: null, callerIdOnFile: false, otpVerified: true })).toBe('otp_verified');
    expect(meetsLevel('number_on_file', 'attested')).toBe(true);
    expect(meetsLevel('attested', 'otp_verified')).toBe(false);
    expect(meetsLevel('none', 'none')).toBe(true);
  });

  it('compares numbers by digits and shows two of them', () => {
    expect(sameNumber('+1 (500) 555-0006', '+15005550006')).toBe(true);
    expect(sameNumber('', '')).toBe(false);
    expect(lastTwo('+447700900123')).toBe('23');
  });
});

describe('sliding quota', () => {
  it('allows `limit` uses per key per window', () => {
    const quota = new SlidingQuota(1000, 2);
    expect([quota.take('a', 0), quota.take('a', 10), quota.take('a', 20), quota.take('b', 20)]).toEqual([true, true, false, true]);
    expect(quota.allows('a', 1001)).toBe(true);
  });
});
