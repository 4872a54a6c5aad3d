import { describe, expect, it } from 'vitest';
import { AnomalyRules } from '../../src/audit/anomaly.js';
import type { AuditRecord } from '../../src/audit/chain.js';
import { parseConfig } from '../../src/config/index.js';

const T0 = Date.parse('2026-03-02T12:00:00Z');
const MINUTE = 60_000;
let seq = 0;

function rec(action: string, at: number, extra: Partial<AuditRecord> = {}): AuditRecord {
  return { seq: seq++, ts: new Date(at).toISOString(), prev: '', action, actor: { type: 'agent', id: 'agent-1' }, outcome: 'failure', ...extra };
}

const rules = (over: Record<string, number>) => new AnomalyRules({ ...parseConfig({}).audit.rules, ...over });

describe('verification anomaly rules', () => {
  it('one-time-code failures per account: counted across calls, once over the threshold', () => {
    const anomaly = rules({ otpFailuresPerAccountPerHour: 3 });
    const failed = (i: number, account: string) => rec('verification.otp_failed', T0 + i * MINUTE, { details: { account, callSid: `CA${i}` } });
    const fired = [0, 1, 2, 3, 4].map((i) => anomaly.observe(failed(i, 'acct_1')));
    expect(fired.map((a) => a.length)).toEqual([0, 0, 0, 1, 0]);
    expect(fired[3][0]).toMatchObject({ rule: 'otp_failures_per_account', subject: 'acct_1', count: 4, threshold: 3 });
    expect(anomaly.observe(failed(5, 'acct_2'))).toEqual([]);
  });

  it('one agent starting many verifications within an hour', () => {
    const anomaly = rules({ verificationsPerAgentPerHour: 2 });
    const fired = [0, 1, 2].map((i) => anomaly.observe(rec('verification.lookup', T0 + i * MINUTE, { outcome: 'success' })));
    expect(fired[2][0]).toMatchObject({ rule: 'verifications_per_agent', subject: 'agent-1', count: 3 });
    expect(anomaly.observe(rec('verification.lookup', T0 + 3 * MINUTE, { actor: { type: 'agent', id: 'agent-2' } }))).toEqual([]);
  });
});
