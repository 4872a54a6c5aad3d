import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Keypress } from '../../../src/capture/types.js';
import { CallerStream } from '../../../src/telephony/sip/rtp/caller-stream.js';
import { parseRtp, serializeRtp } from '../../../src/telephony/sip/rtp/packet.js';
import { parseRed, serializeRed } from '../../../src/telephony/sip/rtp/redundancy.js';
import { EventDeduplicator, parseTelephoneEvents, serializeTelephoneEvent } from '../../../src/telephony/sip/rtp/telephone-event.js';
import { PCMU, RED, rtpSession, TE, type Step } from './rtp-session.js';

const KEYS = '0123456789*#';
const payloads = { pcmu: PCMU, telephoneEvent: TE, redundancy: RED };

function feed(packets: { bytes: Buffer; atMs: number }[], jitter = { depth: 2, maxWaitMs: 40 }) {
  const keys: Keypress[] = [];
  let samples = 0;
  let skipped = 0;
  const stream = new CallerStream(payloads, { audio: (s) => (samples += s.length), key: (k) => keys.push(k), discontinuity: (n) => (skipped += n) }, jitter);
  for (const p of packets) stream.push(parseRtp(p.bytes)!, p.atMs);
  stream.poll(Number.MAX_SAFE_INTEGER);
  return { keys: keys.join(''), samples, skipped, stats: stream.stats };
}

const script = fc.array(
  fc.oneof(
    fc.integer({ min: 1, max: 15 }).map((frames): Step => ({ audio: new Int16Array(frames * 160).fill(300) })),
    fc.record({ key: fc.integer({ min: 0, max: 11 }), ms: fc.integer({ min: 40, max: 400 }) }),
  ),
  { minLength: 1, maxLength: 12 },
);

const pressed = (steps: Step[]) =>
  steps
    .filter((s): s is { key: number; ms: number } => 'key' in s)
    .map((s) => KEYS[s.key])
    .join('');
const covered = (steps: Step[]) => steps.reduce((n, s) => n + ('audio' in s ? s.audio.length : s.ms * 8), 0);

describe('RFC 4733 telephone-events', () => {
  it('parses and serializes event blocks; several blocks start where the previous ended', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.boolean(), fc.integer({ min: 0, max: 63 }), fc.integer({ min: 0, max: 0xffff }), (code, end, volume, duration) => {
        const [event] = parseTelephoneEvents(serializeTelephoneEvent({ code, end, volume, duration }), 7)!;
        expect(event).toEqual({ code, end, volume, duration, timestamp: 7 });
      }),
    );
    const two = new Uint8Array([...serializeTelephoneEvent({ code: 1, end: true, volume: 0, duration: 800 }), ...serializeTelephoneEvent({ code: 2, end: false, volume: 0, duration: 160 })]);
    expect(parseTelephoneEvents(two, 1000)!.map((e) => e.timestamp)).toEqual([1000, 1800]);
    expect(parseTelephoneEvents(new Uint8Array(5), 0)).toBeNull();
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: 0xffffffff }), (b, ts) => void parseTelephoneEvents(b, ts)));
  });

  it('counts an event once across its updates and its end packet sent three times', () => {
    const dedup = new EventDeduplicator();
    const accepted = [400, 800, 1200, 1200, 1200].map((duration, i) => dedup.accept(1, { code: 5, end: i >= 2, volume: 10, duration, timestamp: 9000 }));
    expect(accepted).toEqual([true, false, false, false, false]);
    expect(dedup.accept(2, { code: 5, end: true, volume: 10, duration: 1200, timestamp: 9000 })).toBe(true);
  });

  it('a long event continued in a new segment is the same keypress', () => {
    const dedup = new EventDeduplicator();
    expect(dedup.accept(1, { code: 3, end: false, volume: 0, duration: 65535, timestamp: 0 })).toBe(true);
    expect(dedup.accept(1, { code: 3, end: true, volume: 0, duration: 800, timestamp: 65535 })).toBe(false);
    expect(dedup.accept(1, { code: 3, end: true, volume: 0, duration: 800, timestamp: 70000 })).toBe(true);
  });
});

describe('RFC 2198 redundancy', () => {
  it('round-trips blocks and never throws on garbage', () => {
    const blocks = [
      { payloadType: TE, timestamp: 880, data: new Uint8Array([1, 0x80, 3, 32]), primary: false },
      { payloadType: TE, timestamp: 1000, data: new Uint8Array([2, 0, 1, 144]), primary: true },
    ];
    expect(parseRed(serializeRed(blocks, 1000), 1000)).toEqual(blocks);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (b) => void parseRed(b, 5)), { numRuns: 2000 });
  });
});

describe('the caller stream: events consumed, time filled, order restored', () => {
  it('yields each pressed key exactly once and exactly the time the caller covered, plain or in RFC 2198', () => {
    fc.assert(
      fc.property(script, fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 0xffff }), (steps, redundancy, sequence) => {
        const result = feed(rtpSession(steps, { redundancy, sequence }));
        expect(result.keys).toBe(pressed(steps));
        expect(result.samples + result.skipped).toBe(covered(steps));
      }),
      { numRuns: 150 },
    );
  });

  it('keys survive reordering within the jitter window, duplicated packets and lost updates', () => {
    fc.assert(
      fc.property(
        script,
        fc.array(fc.record({ delay: fc.integer({ min: 0, max: 30 }), copies: fc.integer({ min: 1, max: 2 }), lose: fc.integer({ min: 0, max: 19 }) }), { minLength: 400, maxLength: 400 }),
        (steps, fates) => {
          const sent = rtpSession(steps, { updateMs: 20 });
          const arrivals = sent.flatMap((p, i) => {
            const fate = fates[i % fates.length];
            // Lose only event updates that are not the end packets: the end still arrives.
            const endPacket = p.kind === 'event' && (p.bytes[13] & 0x80) !== 0;
            // The stream's first packet arrives first: it sets the play-out point (a packet sent before it would be late).
            if (i === 0) return [{ bytes: p.bytes, atMs: -1 }];
            if (fate.lose === 0 && p.kind === 'event' && !endPacket) return [];
            return Array.from({ length: fate.copies }, (_, c) => ({ bytes: p.bytes, atMs: p.atMs + fate.delay + c }));
          });
          arrivals.sort((a, b) => a.atMs - b.atMs);
          expect(feed(arrivals, { depth: 4, maxWaitMs: 60 }).keys).toBe(pressed(steps));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('conceals a lost packet, but turns a long silence into a discontinuity rather than a burst of fill', () => {
    const frame = new Uint8Array(160).fill(0x7f);
    const at = (seq: number, ts: number, ms: number) => ({ bytes: serializeRtp({ marker: false, payloadType: PCMU, sequence: seq, timestamp: ts, ssrc: 9, payload: frame }), atMs: ms });
    const lost = feed([at(1, 0, 0), at(3, 320, 40), at(4, 480, 60), at(5, 640, 80)]);
    expect(lost).toMatchObject({ samples: 5 * 160, skipped: 0 });
    expect(lost.stats.concealedSamples).toBe(160);
    const silent = feed([at(1, 0, 0), at(2, 160, 20), at(3, 160 + 24_000, 3020)]);
    expect(silent).toMatchObject({ samples: 3 * 160, skipped: 24_000 - 160 });
    expect(silent.stats.concealedSamples).toBe(0);
  });

  it('after refusing a burst beyond the real-time allowance, plays the real-time packets that follow (no concealment cascade)', () => {
    const packets = rtpSession([{ audio: new Int16Array(160 * 400).fill(500) }]);
    // 200 packets (4 s) at once, then the rest at real time.
    const arrivals = packets.map((p, i) => ({ bytes: p.bytes, atMs: i < 200 ? 0 : (i - 200) * 20 + 20 }));
    const result = feed(arrivals);
    expect(result.stats.overrun).toBe(100);
    expect(result.stats.concealedSamples).toBe(0);
    expect(result.samples).toBe(300 * 160);
    expect(result.skipped).toBe(100 * 160);
  });

  it('drops unknown payload types without waiting on them, and never feeds faster than real time plus 2 s', () => {
    const junk = rtpSession([{ audio: new Int16Array(160 * 200) }]).map((p, i) => {
      const bytes = Buffer.from(p.bytes);
      if (i % 10 === 0) bytes[1] = 18;
      return { bytes, atMs: 0 };
    });
    const result = feed(junk);
    expect(result.stats.unknownPayload).toBe(20);
    expect(result.samples).toBeLessThanOrEqual(16_000);
    expect(result.stats.overrun).toBeGreaterThan(0);
  });
});
