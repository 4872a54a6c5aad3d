import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { roundSample } from '../../src/dsp/rounding.js';

describe('roundSample', () => {
  it('is Math.round for every value a sample can take, halves included', () => {
    fc.assert(
      fc.property(fc.double({ min: -32768, max: 32767.49, noNaN: true }), (v) => {
        expect(roundSample(v)).toBe(Math.round(v) + 0);
      }),
      { numRuns: 20_000 },
    );
    for (let k = -32768; k < 32767; k++) expect(roundSample(k + 0.5)).toBe(Math.round(k + 0.5) + 0);
  });
});
