import { describe, expect, it } from 'vitest';
import { STAGE_SAMPLES } from '../../src/dsp/filter-bank.js';
import { createDtmfDetector, createToneMasker } from '../../src/dsp/index.js';
import type { DtmfDigit } from '../../src/dsp/types.js';
import { addNoise, concat, digitTone, silence, toInt16 } from './signals.js';

/** Longer than the kernel's input holds, so one call must be staged in pieces. */
function longSignal(): Int16Array {
  const digits: DtmfDigit[] = ['4', '1', '1', '1', '#', '9', '0', '*'];
  const parts = Array.from({ length: 6 }, () => digits.flatMap((digit) => [digitTone(digit, 60, { levelDbm0: -12 }), silence(55)])).flat();
  const samples = toInt16(addNoise(concat(silence(30), ...parts), -45, 3));
  expect(samples.length).toBeGreaterThan(2.5 * STAGE_SAMPLES);
  return samples;
}

describe('inputs longer than the kernel stages at once', () => {
  const samples = longSignal();

  it('the detector hears the same digits in one call as in 20 ms frames', () => {
    const digits = (frame: number) => {
      let heard = '';
      const detector = createDtmfDetector({ digitStart: (digit) => (heard += digit) });
      for (let at = 0; at < samples.length; at += frame) detector.process(samples.subarray(at, at + frame));
      detector.flush();
      return heard;
    };
    expect(digits(samples.length)).toBe('4111#90*'.repeat(6));
    expect(digits(160)).toBe(digits(samples.length));
  });

  it('the masker writes the same output in one call as in 20 ms frames', () => {
    const masked = (frame: number) => {
      const output = new Int16Array(samples.length);
      const masker = createToneMasker({});
      for (let at = 0; at < samples.length; at += frame) masker.process(samples.subarray(at, at + frame), output.subarray(at, at + frame));
      return output;
    };
    const whole = masked(samples.length);
    const framed = masked(160);
    expect(whole.findIndex((v, i) => v !== framed[i])).toBe(-1);
  });
});
