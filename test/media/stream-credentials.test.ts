import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { StreamCredentials, type StreamClaim } from '../../src/media/stream-credentials.js';

const CALLER: StreamClaim = { leg: 'caller', legCallId: `CA${'1'.repeat(32)}` };
const AGENT: StreamClaim = { leg: 'agent', legCallId: `CA${'2'.repeat(32)}`, agentId: 'alice' };
const TTL_MS = 30_000;

function clocked() {
  const clock = { now: 1_700_000_000_000 };
  return { clock, credentials: new StreamCredentials(TTL_MS, randomBytes(32), () => clock.now) };
}

describe('stream credentials', () => {
  it('admit the claim they were issued for, once', () => {
    const { credentials } = clocked();
    const token = credentials.issue(AGENT);
    expect(credentials.redeem(AGENT, token)).toEqual({ ok: true });
    expect(credentials.redeem(AGENT, token)).toEqual({ ok: false, reason: 'credential_reused' });
  });

  it('refuse any other leg, CallSid or agent identity', () => {
    const { credentials } = clocked();
    const token = credentials.issue(AGENT);
    expect(credentials.redeem({ ...AGENT, leg: 'caller' }, token)).toEqual({ ok: false, reason: 'credential_invalid' });
    expect(credentials.redeem({ ...AGENT, legCallId: CALLER.legCallId }, token)).toEqual({ ok: false, reason: 'credential_invalid' });
    expect(credentials.redeem({ ...AGENT, agentId: 'mallory' }, token)).toEqual({ ok: false, reason: 'credential_invalid' });
    expect(credentials.redeem({ ...AGENT, agentId: undefined }, token)).toEqual({ ok: false, reason: 'credential_invalid' });
    // The failed attempts did not spend it.
    expect(credentials.redeem(AGENT, token)).toEqual({ ok: true });
  });

  it('expire after their lifetime', () => {
    const { clock, credentials } = clocked();
    const token = credentials.issue(CALLER);
    clock.now += TTL_MS;
    expect(credentials.redeem(CALLER, token)).toEqual({ ok: false, reason: 'credential_expired' });
  });

  it('cannot be extended, tampered with or forged', () => {
    const { credentials } = clocked();
    const token = credentials.issue(CALLER);
    const [expiry, nonce, mac] = token.split('.');
    const later = (parseInt(expiry, 36) + 60_000).toString(36);
    expect(credentials.redeem(CALLER, `${later}.${nonce}.${mac}`)).toEqual({ ok: false, reason: 'credential_invalid' });
    const flipped = mac.slice(0, -2) + (mac.at(-2) === 'A' ? 'B' : 'A') + mac.at(-1);
    expect(credentials.redeem(CALLER, `${expiry}.${nonce}.${flipped}`)).toEqual({ ok: false, reason: 'credential_invalid' });
    for (const junk of [undefined, '', 'x', `${token}.`, token.replace(/\./g, ''), `${expiry}.${nonce}`]) {
      expect(credentials.redeem(CALLER, junk)).toEqual({ ok: false, reason: 'credential_invalid' });
    }
  });

  it('die with the process that issued them (a new key refuses them)', () => {
    const token = new StreamCredentials(TTL_MS).issue(CALLER);
    expect(new StreamCredentials(TTL_MS).redeem(CALLER, token)).toEqual({ ok: false, reason: 'credential_invalid' });
  });

  it('stay short enough for a TwiML parameter, and differ for every issue', () => {
    const { credentials } = clocked();
    const tokens = new Set(Array.from({ length: 100 }, () => credentials.issue(AGENT)));
    expect(tokens.size).toBe(100);
    for (const token of tokens) expect(token.length).toBeLessThanOrEqual(80);
  });
});
