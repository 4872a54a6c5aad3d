import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JitterBuffer } from '../../../src/telephony/sip/rtp/jitter-buffer.js';

interface Arrival {
  seq: number;
  atMs: number;
}

/**
 * A sender's packets 20 ms apart from a random start (wrapping through 65535), then lost,
 * duplicated and delayed at random: what a receiver sees.
 */
const network = fc
  .record({
    start: fc.integer({ min: 0, max: 0xffff }),
    count: fc.integer({ min: 1, max: 120 }),
    fates: fc.array(fc.record({ lost: fc.integer({ min: 0, max: 9 }).map((n) => n < 3), copies: fc.integer({ min: 1, max: 3 }), delayMs: fc.integer({ min: 0, max: 120 }) }), {
      minLength: 120,
      maxLength: 120,
    }),
  })
  .map(({ start, count, fates }) => {
    const arrivals: Arrival[] = [];
    for (let i = 0; i < count; i++) {
      const fate = fates[i];
      if (fate.lost) continue;
      for (let c = 0; c < fate.copies; c++) arrivals.push({ seq: (start + i) & 0xffff, atMs: i * 20 + fate.delayMs + c });
    }
    arrivals.sort((a, b) => a.atMs - b.atMs);
    return { start, count, arrivals };
  });

function run(arrivals: Arrival[], depth = 2, maxWaitMs = 40) {
  const released: { seq: number; atMs: number; arrivedMs: number }[] = [];
  let clock = 0;
  let maxHeld = 0;
  const jb = new JitterBuffer<number>({ depth, maxWaitMs }, (arrivedMs, seq) => released.push({ seq, atMs: clock, arrivedMs }));
  // The relay polls on its own 20 ms timer, whatever the arrivals do.
  let nextPoll = 20;
  for (const a of arrivals) {
    while (nextPoll <= a.atMs) {
      clock = nextPoll;
      jb.poll(clock);
      nextPoll += 20;
    }
    clock = a.atMs;
    jb.push(a.seq, a.atMs, a.atMs);
    maxHeld = Math.max(maxHeld, jb.size);
  }
  const end = clock;
  for (; nextPoll <= end + maxWaitMs + 20; nextPoll += 20) {
    clock = nextPoll;
    jb.poll(clock);
  }
  return { released, maxHeld, jb, end };
}

describe('jitter buffer', () => {
  it('releases in strictly increasing sequence order (through the wrap), each packet at most once', () => {
    fc.assert(
      fc.property(network, ({ start, arrivals }) => {
        const { released } = run(arrivals);
        const unwrapped = released.map((r) => (r.seq - start + 0x10000) & 0xffff);
        for (let i = 1; i < unwrapped.length; i++) expect(unwrapped[i]).toBeGreaterThan(unwrapped[i - 1]);
      }),
    );
  });

  it('never stalls: once arrivals stop, everything held is out within maxWaitMs plus one poll', () => {
    fc.assert(
      fc.property(network, ({ arrivals }) => {
        const { jb } = run(arrivals);
        expect(jb.size).toBe(0);
      }),
    );
  });

  it('is bounded: holds at most `depth` packets and adds at most maxWaitMs plus one poll to any packet', () => {
    fc.assert(
      fc.property(network, fc.integer({ min: 0, max: 4 }), ({ arrivals }, depth) => {
        const { released, maxHeld } = run(arrivals, depth);
        expect(maxHeld).toBeLessThanOrEqual(depth);
        for (const r of released) expect(r.atMs - r.arrivedMs).toBeLessThanOrEqual(40 + 20);
      }),
    );
  });

  it('with in-order arrival adds no delay and loses nothing', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 1, max: 200 }), (start, count) => {
        const arrivals = Array.from({ length: count }, (_, i) => ({ seq: (start + i) & 0xffff, atMs: i * 20 }));
        const { released, jb } = run(arrivals);
        expect(released.length).toBe(count);
        expect(released.every((r) => r.atMs === r.arrivedMs)).toBe(true);
        expect(jb.stats.lost).toBe(0);
      }),
    );
  });

  it('reorders what arrives within the window and counts duplicates', () => {
    const seqs = [10, 12, 11, 11, 13, 15, 14];
    const { released, jb } = run(seqs.map((seq, i) => ({ seq, atMs: i * 5 })));
    expect(released.map((r) => r.seq)).toEqual([10, 11, 12, 13, 14, 15]);
    expect(jb.stats.duplicates + jb.stats.late).toBe(1);
  });

  it('drops packets behind the play-out point, and accepts a restarted sequence only once confirmed', () => {
    const { released, jb } = run([
      { seq: 100, atMs: 0 },
      { seq: 101, atMs: 20 },
      { seq: 99, atMs: 21 },
      { seq: 40000, atMs: 40 },
      { seq: 102, atMs: 41 },
      { seq: 50000, atMs: 60 },
      { seq: 50001, atMs: 80 },
      { seq: 50002, atMs: 100 },
    ]);
    expect(released.map((r) => r.seq)).toEqual([100, 101, 102, 50001, 50002]);
    expect(jb.stats).toMatchObject({ late: 1, resyncs: 1 });
  });
});
