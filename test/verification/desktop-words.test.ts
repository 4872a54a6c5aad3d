import { describe, expect, it } from 'vitest';
import { verificationSummary } from '../../src/agent/desktop/client/words.js';

describe('the desktop verification line', () => {
  it('names the level and, for a code, only the last two digits of where it went', () => {
    expect(verificationSummary(undefined)).toBe('Caller verification: not available.');
    expect(verificationSummary({ level: 'attested', attestation: 'A', callerIdOnFile: null, numbersOnFile: [], otp: null })).toBe('Caller verification: Caller ID attested by the carrier.');
    const verified = verificationSummary({
      level: 'otp_verified',
      attestation: null,
      callerIdOnFile: false,
      numbersOnFile: ['23'],
      otp: { state: 'verified', captureId: 'cap_x', numberLast2: '+447700900123' },
    });
    expect(verified).toBe('Caller verification: Verified by one-time code · code to number ending 23: verified.');
  });
});
