import { describe, expect, it } from 'vitest';
import { DECISION_RULES } from '../../src/dsp/digit-tracker.js';
import { DtmfFilterBank } from '../../src/dsp/filter-bank.js';
import { SUSPICION_RULES, createToneMasker } from '../../src/dsp/masker.js';
import { WindowAnalysis, criteria } from '../../src/dsp/window-analysis.js';
import type { DtmfDigit, MaskFill } from '../../src/dsp/types.js';
import { createReferenceMasker } from './reference/masker.js';
import { WindowAnalysis as ReferenceAnalysis, criteria as referenceCriteria } from './reference/window-analysis.js';
import { addNoise, concat, digitTone, silence, toInt16 } from './signals.js';

/** The rule sets of digit-tracker.ts and masker.ts, in dB (checked against the built ones below). */
const DECISION_DB = { minToneDbm0: -38, maxNormalTwistDb: 9.5, maxReverseTwistDb: 5.5, minPeakDb: 8, minPairFraction: 0.7, maxDeviation: 0.025 };
const SUSPICION_DB = { minToneDbm0: -45, maxNormalTwistDb: 10, maxReverseTwistDb: 6, minPeakDb: 2, minPairFraction: 0.85, maxDeviation: 0.05 };

/** Digits of every kind at the Q.24 edges (off-frequency, twisted, short, faint), between noise, speech-like bursts and silence. */
function mixedSignal(seed: number): Int16Array {
  const digits: DtmfDigit[] = ['1', '5', '9', 'D', '*', '0', '#', 'A', '3', '7', 'B', 'C', '2', '4', '6', '8'];
  const parts = digits.flatMap((digit, i) => [
    digitTone(digit, [23, 30, 40, 70, 120][i % 5], {
      deviation: [0, 0.015, -0.025, 0.03, -0.04][i % 5],
      levelDbm0: [-10, -25, -3, -30][i % 4],
      twistDb: [0, 4, -8, 6, -10][i % 5],
      phase: i,
    }),
    silence([10, 40, 60][i % 3]),
  ]);
  return toInt16(addNoise(concat(silence(35), ...parts, silence(100)), -40, seed));
}

describe('fast paths decide as the straightforward implementation does', () => {
  it('restates the production rule sets', () => {
    expect(criteria(DECISION_DB)).toEqual(DECISION_RULES);
    expect(criteria(SUSPICION_DB)).toEqual(SUSPICION_RULES);
  });

  it.each([1, 2, 3])('window analysis: same decision on every block, same fill amplitudes to 1e-12 (noise seed %i)', (seed) => {
    const samples = mixedSignal(seed);
    const bank = new DtmfFilterBank();
    const cases = [
      { blocks: 4, rules: DECISION_DB },
      { blocks: 2, rules: SUSPICION_DB },
    ].map(({ blocks, rules }) => ({
      fast: new WindowAnalysis(bank, blocks),
      reference: new ReferenceAnalysis(bank, blocks),
      fastRules: criteria(rules),
      referenceRules: referenceCriteria(rules),
    }));
    let valid = 0;
    for (let at = 0; at < samples.length; ) {
      const before = bank.blocks;
      at = bank.feed(samples, at, samples.length);
      if (bank.blocks === before) continue;
      for (const c of cases) {
        const digit = c.fast.analyse(c.fastRules);
        expect(digit).toBe(c.reference.analyse(c.referenceRules));
        if (digit < 0) continue;
        valid++;
        expect([c.fast.low, c.fast.high]).toEqual([c.reference.low, c.reference.high]);
        // The tracked step comes from the measured turn without arctangent and cosine: the last bits differ.
        expect(Math.abs(c.fast.lowBlockAmplitude / c.reference.lowBlockAmplitude - 1)).toBeLessThan(1e-12);
        expect(Math.abs(c.fast.highBlockAmplitude / c.reference.highBlockAmplitude - 1)).toBeLessThan(1e-12);
      }
    }
    expect(valid).toBeGreaterThan(50);
  });

  it.each<[MaskFill, number, number]>([
    ['comfort-noise', 160, 20],
    ['silence', 37, 20],
    ['beep', 97, 15],
    ['comfort-noise', 80, 0],
  ])('masker: same output samples, events and stats (fill %s, %i-sample frames, lookahead %i ms), mask-all toggled', (fill, frame, lookaheadMs) => {
    const samples = mixedSignal(7);
    const run = (make: typeof createToneMasker) => {
      const events: string[] = [];
      const masker = make({ fill, lookaheadMs }, {
        digitStart: (digit, at) => events.push(`start ${digit} ${at}`),
        digitEnd: (e) => events.push(`end ${e.digit} ${e.startSample} ${e.endSample}`),
      });
      const output = new Int16Array(samples.length);
      for (let at = 0, n = 0; at < samples.length; at += frame, n++) {
        if (n === 40) masker.setMaskAll(true);
        if (n === 47) masker.setMaskAll(false);
        const end = Math.min(samples.length, at + frame);
        masker.process(samples.subarray(at, end), output.subarray(at, end));
      }
      masker.flush();
      return { output, events, stats: { ...masker.stats } };
    };
    const fast = run(createToneMasker);
    const reference = run(createReferenceMasker);
    expect(fast.events).toEqual(reference.events);
    expect(fast.stats).toEqual(reference.stats);
    expect(fast.stats.maskedSamples).toBeGreaterThan(1000);
    const firstDifference = fast.output.findIndex((v, i) => v !== reference.output[i]);
    expect(firstDifference).toBe(-1);
  });
});
