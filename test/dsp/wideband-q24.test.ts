import { describe, expect, it } from 'vitest';
import { createDtmfDetector, createToneMasker } from '../../src/dsp/index.js';
import { describeQ24Battery } from './q24-battery.js';

/** The whole Q.24 battery at 16 kHz: the same cases as at 8 kHz, on the native 16 kHz detector. */
describeQ24Battery(16000);

describe('sample rates', () => {
  it('accepts 8000 and 16000 only', () => {
    for (const sampleRate of [11025, 32000, 0, Number.NaN]) {
      expect(() => createDtmfDetector({}, { sampleRate: sampleRate as 8000 })).toThrow(RangeError);
      expect(() => createToneMasker({ sampleRate: sampleRate as 8000 })).toThrow(RangeError);
    }
  });
});
