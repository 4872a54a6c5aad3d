import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PowerSpectrum } from '../../src/dsp/power-spectrum.js';

/** |X[k]|² of the Hann-windowed block by the DFT's definition. */
function directPower(block: number[]): number[] {
  const n = block.length;
  const windowed = block.map((x, i) => x * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n)));
  return Array.from({ length: n / 2 }, (_, k) => {
    let re = 0;
    let im = 0;
    windowed.forEach((x, i) => {
      re += x * Math.cos((2 * Math.PI * k * i) / n);
      im -= x * Math.sin((2 * Math.PI * k * i) / n);
    });
    return re * re + im * im;
  });
}

describe('PowerSpectrum', () => {
  it('adds the windowed power spectrum of a block read from a ring, as the DFT defines it', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(4, 8, 64, 128, 256),
        fc.integer({ min: 0, max: 1000 }),
        fc.array(fc.integer({ min: -32768, max: 32767 }), { minLength: 256, maxLength: 600 }),
        (size, start, ring) => {
          const spectrum = new PowerSpectrum(size);
          const into = new Float64Array(size / 2).fill(1);
          spectrum.accumulate(ring, start, into);
          const block = Array.from({ length: size }, (_, i) => ring[(start + i) % ring.length]);
          const expected = directPower(block);
          const scale = (32768 * size) ** 2;
          expected.forEach((power, k) => expect(Math.abs(into[k] - 1 - power)).toBeLessThan(scale * 1e-12));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('puts a full-scale sine at a bin centre at its full-scale power', () => {
    const spectrum = new PowerSpectrum(128);
    const sine = Array.from({ length: 128 }, (_, i) => 32767 * Math.cos((2 * Math.PI * 16 * i) / 128));
    const into = new Float64Array(64);
    spectrum.accumulate(sine, 0, into);
    expect(into[16] / spectrum.fullScalePower(32767)).toBeCloseTo(1, 9);
  });
});
