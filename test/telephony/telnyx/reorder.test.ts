import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Reorderer } from '../../../src/telephony/telnyx/reorder.js';

const run = (window: number, sequences: number[], start = 0) => {
  const reorderer = new Reorderer<number>(window);
  reorderer.startAfter(start);
  const out = sequences.flatMap((s) => reorderer.push(s, s));
  return { out: [...out, ...reorderer.flush()], counts: reorderer.counts };
};

/** 1..n with each element moved at most `d` places (a bounded shuffle). */
const boundedShuffle = (n: number, d: number) =>
  fc.array(fc.integer({ min: 0, max: d }), { minLength: n, maxLength: n }).map((jitter) =>
    Array.from({ length: n }, (_, i) => i + 1)
      .map((s, i) => ({ s, key: i + jitter[i] + 0.5 * (i / n) }))
      .sort((a, b) => a.key - b.key)
      .map((x) => x.s),
  );

describe('Telnyx frame reordering', () => {
  it('passes in-order frames straight through', () => {
    const reorderer = new Reorderer<number>(3);
    reorderer.startAfter(1);
    for (let s = 2; s < 50; s++) expect(reorderer.push(s, s)).toEqual([s]);
    expect(reorderer.counts).toEqual({ reordered: 0, duplicate: 0, late: 0, missing: 0 });
  });

  it('restores order within the window', () => {
    expect(run(3, [2, 1, 4, 3, 5]).out).toEqual([1, 2, 3, 4, 5]);
    expect(run(3, [2, 1, 4, 3, 5]).counts.reordered).toBe(2);
  });

  it('drops duplicates and frames whose place was given up, and counts them', () => {
    const { out, counts } = run(2, [1, 1, 3, 4, 5, 2, 5, 6]);
    expect(out).toEqual([1, 3, 4, 5, 6]);
    expect(counts).toMatchObject({ duplicate: 2, late: 1, missing: 1 });
  });

  it('treats a far jump as a restart of the numbering, not a second of loss to wait for', () => {
    expect(run(3, [1, 2, 1000, 1001]).out).toEqual([1, 2, 1000, 1001]);
  });

  it('property: any shuffle bounded by the window comes out complete and in order', () => {
    const cases = fc.tuple(fc.integer({ min: 1, max: 120 }), fc.integer({ min: 1, max: 4 })).chain(([n, window]) => fc.tuple(fc.constant(n), fc.constant(window), boundedShuffle(n, window)));
    fc.assert(
      fc.property(cases, ([n, window, order]) => {
        const { out, counts } = run(window, order);
        expect(out).toEqual(Array.from({ length: n }, (_, i) => i + 1));
        expect(counts.missing + counts.late + counts.duplicate).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('property: whatever arrives, output is strictly increasing and never holds more than the window', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 300 }), fc.integer({ min: 0, max: 5 }), (sequences, window) => {
        const reorderer = new Reorderer<number>(window);
        reorderer.startAfter(0);
        const out: number[] = [];
        let pushed = 0;
        for (const s of sequences) {
          out.push(...reorderer.push(s, s));
          pushed++;
        }
        out.push(...reorderer.flush());
        for (let i = 1; i < out.length; i++) expect(out[i]).toBeGreaterThan(out[i - 1]);
        const { duplicate, late } = reorderer.counts;
        expect(out.length + duplicate + late).toBe(pushed);
      }),
    );
  });
});
