import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DTMF_FREQUENCIES } from '../../src/dsp/dtmf-frequencies.js';
import { DtmfFilterBank, HISTORY } from '../../src/dsp/filter-bank.js';
import type { SampleRate } from '../../src/dsp/types.js';
import { assembleKernel, KERNEL_MODULE, kernelModuleText } from '../../scripts/build-wasm.js';

/**
 * Block `block`'s Goertzel value per bin, y = s1 − e^{−jω}·s2, in double precision and turned
 * back by the block's nominal turn e^{−jωB·block}, and its Σx².
 */
function referenceBlock(samples: Int16Array, block: number, length: number, sampleRate: SampleRate) {
  const from = block * length;
  return {
    bins: DTMF_FREQUENCIES.map((f) => {
      const omega = (2 * Math.PI * f) / sampleRate;
      let s1 = 0;
      let s2 = 0;
      for (let n = from; n < from + length; n++) {
        const s0 = samples[n] + 2 * Math.cos(omega) * s1 - s2;
        s2 = s1;
        s1 = s0;
      }
      const re = s1 - s2 * Math.cos(omega);
      const im = s2 * Math.sin(omega);
      const turn = -omega * length * block;
      return { re: re * Math.cos(turn) - im * Math.sin(turn), im: re * Math.sin(turn) + im * Math.cos(turn) };
    }),
    energy: samples.subarray(from, from + length).reduce((e, x) => e + x * x, 0),
  };
}

describe('the WebAssembly Goertzel kernel', () => {
  it('is the assembly of goertzel-kernel.wat (run scripts/build-wasm.ts after editing it)', async () => {
    expect(readFileSync(KERNEL_MODULE, 'utf8')).toBe(kernelModuleText(await assembleKernel()));
  });

  it('keeps every block\'s double-precision Goertzel value, turned back by its nominal turn, however the samples are split into calls', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<SampleRate>(8000, 16000),
        fc.int16Array({ minLength: 1, maxLength: 1200, size: 'max' }),
        fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 20 }),
        (sampleRate, samples, cuts) => {
          const bank = new DtmfFilterBank(sampleRate);
          const checked: number[] = [];
          const running = { re: new Float64Array(8), im: new Float64Array(8) };
          for (let at = 0, c = 0; at < samples.length; c++) {
            const end = Math.min(samples.length, at + cuts[c % cuts.length]);
            while (at < end) {
              const before = bank.blocks;
              at = bank.feed(samples, at, end);
              if (bank.blocks === before) continue;
              const block = bank.blocks - 1;
              const expected = referenceBlock(samples, block, bank.blockLength, sampleRate);
              // Single precision within a block: errors relative to the block's own scale, far below any dB rule.
              const scale = bank.blockLength * 32768;
              expected.bins.forEach(({ re, im }, bin) => {
                expect(Math.abs(bank.re[bank.slot(block) + bin] - re)).toBeLessThan(scale * 1e-6);
                expect(Math.abs(bank.im[bank.slot(block) + bin] - im)).toBeLessThan(scale * 1e-6);
              });
              // The running sums since the first block, as the window analysis takes differences of them.
              for (let bin = 0; bin < 8; bin++) {
                running.re[bin] += bank.re[bank.slot(block) + bin];
                running.im[bin] += bank.im[bank.slot(block) + bin];
                expect(Math.abs(bank.sumRe[bank.slot(block) + bin] - running.re[bin])).toBeLessThan(1e-6 * (1 + Math.abs(running.re[bin])));
                expect(Math.abs(bank.sumIm[bank.slot(block) + bin] - running.im[bin])).toBeLessThan(1e-6 * (1 + Math.abs(running.im[bin])));
              }
              // At 8 kHz the energy is summed in double precision, exactly; at 16 kHz it is the telephone band's.
              if (sampleRate === 8000) expect(bank.energyOf(block)).toBe(expected.energy);
              checked.push(block);
            }
          }
          expect(checked).toEqual(Array.from({ length: Math.floor(samples.length / bank.blockLength) }, (_, i) => i));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('gives every filter bank its own state and history', () => {
    const tone = Int16Array.from({ length: 400 }, (_, n) => Math.round(8000 * Math.sin((2 * Math.PI * 697 * n) / 8000)));
    const a = new DtmfFilterBank();
    const b = new DtmfFilterBank();
    for (let at = 0; at < tone.length; ) at = a.feed(tone, at, tone.length);
    expect(b.blocks).toBe(0);
    expect(b.energy.every((e) => e === 0)).toBe(true);
    expect(a.blocks).toBe(400 / a.blockLength);
    expect(a.blocks).toBeLessThan(HISTORY);
  });
});
