import { describe, expect, it } from 'vitest';
import { DECISION_RULES } from '../../src/dsp/digit-tracker.js';
import { BLOCK, DtmfFilterBank } from '../../src/dsp/filter-bank.js';
import { DTMF_FREQUENCIES } from '../../src/dsp/dtmf-frequencies.js';
import { SAMPLE_RATE } from '../../src/dsp/levels.js';
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

/**
 * The reference analysis expects each block's plain Goertzel value; the bank keeps it turned back
 * by the block's nominal turn. This copy of the bank's history turns the newest block forward again.
 */
function unturnedHistory(bank: DtmfFilterBank): { bank: DtmfFilterBank; update(): void } {
  const re = new Float64Array(bank.re.length);
  const im = new Float64Array(bank.im.length);
  const view = { blockLength: bank.blockLength, energy: bank.energy, re, im, slot: bank.slot.bind(bank), energyOf: bank.energyOf.bind(bank) };
  Object.defineProperty(view, 'blocks', { get: () => bank.blocks });
  return {
    bank: view as unknown as DtmfFilterBank,
    update() {
      const block = bank.blocks - 1;
      const at = bank.slot(block);
      DTMF_FREQUENCIES.forEach((frequency, bin) => {
        const turn = (2 * Math.PI * frequency * BLOCK * block) / SAMPLE_RATE;
        re[at + bin] = bank.re[at + bin] * Math.cos(turn) - bank.im[at + bin] * Math.sin(turn);
        im[at + bin] = bank.re[at + bin] * Math.sin(turn) + bank.im[at + bin] * Math.cos(turn);
      });
    },
  };
}

describe('fast paths decide as the straightforward implementation does', () => {
  it('restates the production rule sets', () => {
    expect(criteria(DECISION_DB)).toEqual(DECISION_RULES);
    expect(criteria(SUSPICION_DB)).toEqual(SUSPICION_RULES);
  });

  it.each([1, 2, 3])('window analysis: same decision on every block, same fill amplitudes to 1e-12 (noise seed %i)', (seed) => {
    const samples = mixedSignal(seed);
    const bank = new DtmfFilterBank();
    const unturned = unturnedHistory(bank);
    const cases = [
      { blocks: 4, rules: DECISION_DB },
      { blocks: 2, rules: SUSPICION_DB },
    ].map(({ blocks, rules }) => ({
      fast: new WindowAnalysis(bank, blocks),
      reference: new ReferenceAnalysis(unturned.bank, blocks),
      fastRules: criteria(rules),
      referenceRules: referenceCriteria(rules),
    }));
    let valid = 0;
    for (let at = 0; at < samples.length; ) {
      const before = bank.blocks;
      at = bank.feed(samples, at, samples.length);
      if (bank.blocks === before) continue;
      unturned.update();
      for (const c of cases) {
        const digit = c.fast.analyse(c.fastRules);
        expect(digit).toBe(c.reference.analyse(c.referenceRules));
        if (digit < 0) continue;
        valid++;
        expect([c.fast.low, c.fast.high]).toEqual([c.reference.low, c.reference.high]);
        // History turned back once per block, the turn measured without arctangent and cosine: the last bits differ.
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
      const unaltered: boolean[] = [];
      for (let at = 0, n = 0; at < samples.length; at += frame, n++) {
        if (n === 40) masker.setMaskAll(true);
        if (n === 47) masker.setMaskAll(false);
        const end = Math.min(samples.length, at + frame);
        const same = masker.process(samples.subarray(at, end), output.subarray(at, end));
        unaltered.push(same);
        // "Unaltered" promises the input of one lookahead before, sample for sample: a bridge forwards those bytes instead.
        const delay = masker.lookaheadSamples;
        if (same) expect(at >= delay && output.subarray(at, end).every((v, i) => v === samples[at - delay + i])).toBe(true);
      }
      masker.flush();
      return { output, events, unaltered, stats: { ...masker.stats } };
    };
    const fast = run(createToneMasker);
    const reference = run(createReferenceMasker);
    expect(fast.events).toEqual(reference.events);
    expect(fast.unaltered).toEqual(reference.unaltered);
    expect(fast.unaltered.filter(Boolean).length).toBeGreaterThan(fast.unaltered.length / 4);
    expect(fast.unaltered.filter((same) => !same).length).toBeGreaterThan(10);
    expect(fast.stats).toEqual(reference.stats);
    expect(fast.stats.maskedSamples).toBeGreaterThan(1000);
    const firstDifference = fast.output.findIndex((v, i) => v !== reference.output[i]);
    expect(firstDifference).toBe(-1);
  });
});
