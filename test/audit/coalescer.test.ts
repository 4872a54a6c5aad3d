import { afterEach, describe, expect, it, vi } from 'vitest';
import { coalescingSink, FailureCoalescer } from '../../src/audit/coalescer.js';
import { MemoryAuditSink, type AuditEvent } from '../../src/audit/types.js';

const refusal = (source: string, reason = 'invalid'): AuditEvent => ({ action: 'twilio.signature_failed', actor: { type: 'telephony', id: 'twilio' }, outcome: 'denied', source, details: { reason } });

afterEach(() => {
  vi.useRealTimers();
});

describe('failure coalescer', () => {
  it('writes the first `burst` of a key as they come, then one record with the count at the end of the window', () => {
    vi.useFakeTimers();
    const sink = new MemoryAuditSink();
    const coalescer = new FailureCoalescer(sink, { windowMs: 60_000, burst: 2 });
    for (let i = 0; i < 1000; i++) coalescer.record(refusal('10.0.0.1'));
    coalescer.record(refusal('10.0.0.2'));
    expect(sink.events).toHaveLength(3);
    expect(sink.events[0]).toEqual(refusal('10.0.0.1'));
    vi.advanceTimersByTime(60_000);
    expect(sink.events).toHaveLength(4);
    expect(sink.events[3]).toMatchObject({ source: '10.0.0.1', details: { reason: 'invalid', count: 998, coalesced: true, windowMs: 60_000 } });
    // A new window starts fresh.
    coalescer.record(refusal('10.0.0.1'));
    expect(sink.events).toHaveLength(5);
    expect(sink.events[4]).toEqual(refusal('10.0.0.1'));
  });

  it('keeps memory bounded: past maxKeys, further keys of an action share one overflow key', () => {
    const sink = new MemoryAuditSink();
    const coalescer = new FailureCoalescer(sink, { windowMs: 60_000, burst: 1, maxKeys: 3 });
    for (let i = 0; i < 100; i++) coalescer.record(refusal(`10.0.1.${i}`));
    expect(sink.events).toHaveLength(4);
    coalescer.flush();
    expect(sink.events.at(-1)?.details).toMatchObject({ count: 96, coalesced: true });
  });

  it('a coalescing sink folds only the listed failures; successes and other actions pass straight through', () => {
    const sink = new MemoryAuditSink();
    const folded = coalescingSink(sink, new FailureCoalescer(sink, { windowMs: 60_000, burst: 1 }), new Set(['twilio.signature_failed']));
    for (let i = 0; i < 5; i++) {
      folded.record(refusal('10.0.0.1'));
      folded.record({ ...refusal('10.0.0.1'), outcome: 'success' });
      folded.record({ ...refusal('10.0.0.1'), action: 'auth.denied' });
    }
    expect(sink.events.filter((e) => e.action === 'twilio.signature_failed' && e.outcome === 'denied')).toHaveLength(1);
    expect(sink.events).toHaveLength(11);
  });
});
