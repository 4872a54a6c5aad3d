import { describe, expect, it } from 'vitest';
import { AnomalyRules, type AnomalyThresholds } from '../../src/audit/anomaly.js';
import type { AuditRecord } from '../../src/audit/chain.js';
import { parseConfig } from '../../src/config/index.js';

const T0 = Date.parse('2026-03-02T12:00:00Z');
const SECOND = 1000;

function thresholds(over: Partial<AnomalyThresholds> = {}): AnomalyThresholds {
  return { ...parseConfig({}).audit.rules, ...over };
}

let seq = 0;
function rec(action: string, at: number, extra: Partial<AuditRecord> = {}): AuditRecord {
  return { seq: seq++, ts: new Date(at).toISOString(), prev: '', action, actor: { type: 'agent', id: 'agent-1' }, outcome: 'success', ...extra };
}

/** Feeds `count` records spaced `stepMs` apart from `start`; returns the alerts per record. */
function feed(rules: AnomalyRules, count: number, stepMs: number, make: (at: number, i: number) => AuditRecord, start = T0) {
  return Array.from({ length: count }, (_, i) => rules.observe(make(start + i * stepMs, i)));
}

describe('anomaly rules', () => {
  it('captures per agent per hour: fires once when one agent goes over, not for another agent', () => {
    const rules = new AnomalyRules(thresholds({ capturesPerAgentPerHour: 3 }));
    const alerts = feed(rules, 6, 60 * SECOND, (at) => rec('capture.started', at));
    expect(alerts.map((a) => a.length)).toEqual([0, 0, 0, 1, 0, 0]);
    expect(alerts[3][0]).toMatchObject({ rule: 'captures_per_agent', subject: 'agent-1', count: 4, threshold: 3 });
    expect(rules.observe(rec('capture.started', T0 + 7 * 60 * SECOND, { actor: { type: 'agent', id: 'agent-2' } }))).toEqual([]);
  });

  it('captures per agent: spread over more than an hour is fine, and the rule re-arms', () => {
    const rules = new AnomalyRules(thresholds({ capturesPerAgentPerHour: 2 }));
    expect(feed(rules, 6, 31 * 60 * SECOND, (at) => rec('capture.started', at)).flat()).toEqual([]);
    const burst = feed(rules, 3, SECOND, (at) => rec('capture.started', at), T0 + 10 * 3_600_000);
    expect(burst.flat()).toHaveLength(1);
    const later = feed(rules, 3, SECOND, (at) => rec('capture.started', at), T0 + 12 * 3_600_000);
    expect(later.flat()).toHaveLength(1);
  });

  it('detokenize burst by one client', () => {
    const rules = new AnomalyRules(thresholds({ detokenizePerClientPerMinute: 5 }));
    const alerts = feed(rules, 8, SECOND, (at) => rec('vault.detokenize', at, { actor: { type: 'processor', id: 'acme' } })).flat();
    expect(alerts).toEqual([expect.objectContaining({ rule: 'detokenize_burst', subject: 'acme', count: 6 })]);
    const slow = new AnomalyRules(thresholds({ detokenizePerClientPerMinute: 5 }));
    expect(feed(slow, 20, 15 * SECOND, (at) => rec('processor.detokenize', at, { actor: { type: 'processor', id: 'acme' } })).flat()).toEqual([]);
  });

  it('failed validations on one call (card testing)', () => {
    const rules = new AnomalyRules(thresholds({ failedValidationsPerCall: 3 }));
    const invalid = (at: number, call: string) => rec('capture.field_invalid', at, { outcome: 'failure', resource: { type: 'capture', id: 'cap_1' }, details: { callSid: call, field: 'card_number' } });
    expect(feed(rules, 3, SECOND, (at) => invalid(at, 'CA1')).flat()).toEqual([]);
    expect(rules.observe(invalid(T0 + 10 * SECOND, 'CA2'))).toEqual([]);
    expect(rules.observe(invalid(T0 + 11 * SECOND, 'CA1'))).toEqual([expect.objectContaining({ rule: 'card_testing', subject: 'CA1', count: 4 })]);
    const byCapture = new AnomalyRules(thresholds({ failedValidationsPerCall: 1 }));
    const noCall = (at: number) => rec('capture.field_invalid', at, { resource: { type: 'capture', id: 'cap_9' } });
    expect(feed(byCapture, 2, SECOND, noCall).flat()).toEqual([expect.objectContaining({ subject: 'capture:cap_9' })]);
  });

  it('repeated signature failures from one source', () => {
    const rules = new AnomalyRules(thresholds({ signatureFailuresPerSourcePerMinute: 4 }));
    const failed = (at: number, source: string) => rec('twilio.signature_failed', at, { actor: { type: 'telephony', id: 'twilio' }, outcome: 'denied', source });
    expect(feed(rules, 4, SECOND, (at) => failed(at, '203.0.113.9')).flat()).toEqual([]);
    expect(rules.observe(failed(T0 + 5 * SECOND, '198.51.100.1'))).toEqual([]);
    expect(rules.observe(failed(T0 + 6 * SECOND, '203.0.113.9'))).toEqual([expect.objectContaining({ rule: 'signature_failures', subject: '203.0.113.9', count: 5 })]);
  });

  it('a coalesced signature-failure record counts as its `count` refusals', () => {
    const rules = new AnomalyRules(thresholds({ signatureFailuresPerSourcePerMinute: 4 }));
    const folded = rec('twilio.signature_failed', T0, { actor: { type: 'telephony', id: 'twilio' }, outcome: 'denied', source: '203.0.113.9', details: { reason: 'invalid', count: 30, coalesced: true } });
    expect(rules.observe(folded)).toEqual([expect.objectContaining({ rule: 'signature_failures', subject: '203.0.113.9', count: 5 })]);
  });

  it('captures outside business hours, in the configured time zone, including windows across midnight', () => {
    const rules = new AnomalyRules(thresholds({ businessHours: '08:00-18:00', timezone: 'America/New_York' }));
    expect(rules.observe(rec('capture.started', Date.parse('2026-03-02T15:00:00Z')))).toEqual([]);
    expect(rules.observe(rec('capture.started', Date.parse('2026-03-02T23:30:00Z')))).toEqual([expect.objectContaining({ rule: 'capture_outside_hours', subject: 'agent-1' })]);
    const night = new AnomalyRules(thresholds({ businessHours: '22:00-06:00' }));
    expect(night.observe(rec('capture.started', Date.parse('2026-03-02T23:00:00Z')))).toEqual([]);
    expect(night.observe(rec('capture.started', Date.parse('2026-03-02T12:00:00Z')))).toHaveLength(1);
    expect(new AnomalyRules(thresholds()).observe(rec('capture.started', Date.parse('2026-03-02T03:00:00Z')))).toEqual([]);
  });

  it('ignores other actions, alerts included', () => {
    const rules = new AnomalyRules(thresholds({ capturesPerAgentPerHour: 1 }));
    expect(feed(rules, 5, SECOND, (at) => rec('alert.raised', at)).flat()).toEqual([]);
  });
});
