import { describe, expect, it } from 'vitest';
import { digitFrequencies, type DtmfDigit } from '../../src/dsp/index.js';
import { detect, digitsOf } from '../../src/dsp/detect-events.js';
import { dbm0ToPeak } from '../../src/dsp/levels.js';
import { resampleTo8k } from '../../src/scan/resample.js';
import { concat, digitTone, silence, toInt16, type ToneShape } from '../dsp/signals.js';

/** The detector's Q.24 frequency and level edges, checked on tones recorded at other rates and resampled to 8 kHz. */

const ALL_DIGITS: DtmfDigit[] = ['1', '2', '3', 'A', '4', '5', '6', 'B', '7', '8', '9', 'C', '*', '0', '#', 'D'];
const RATES = [16000, 44100, 48000];

function resampledTone(digit: DtmfDigit, rate: number, shape: ToneShape): Int16Array {
  const recorded = toInt16(concat(silence(20, rate), digitTone(digit, 60, { ...shape, sampleRate: rate }), silence(80, rate)));
  return resampleTo8k(recorded, rate);
}

describe('resampled DTMF keeps the detector’s Q.24 behaviour', () => {
  for (const rate of RATES) {
    it(`at ${rate} Hz: every digit at 0 and −25 dBm0 with ±1.5% deviation is detected, ±3.5% is rejected`, () => {
      for (const digit of ALL_DIGITS) {
        for (const levelDbm0 of [0, -25]) {
          for (const deviation of [-0.015, 0.015]) expect(digitsOf(detect(resampledTone(digit, rate, { levelDbm0, deviation })))).toBe(digit);
          for (const deviation of [-0.035, 0.035]) expect(digitsOf(detect(resampledTone(digit, rate, { levelDbm0, deviation })))).toBe('');
        }
      }
    });

    it(`at ${rate} Hz: tone pairs that at −6 dBm0 that would alias onto a digit’s frequencies (8 kHz − f) are not heard as that digit`, () => {
      for (const digit of ALL_DIGITS) {
        const [low, high] = digitFrequencies(digit);
        const peak = dbm0ToPeak(-6);
        const mirror = new Float64Array(Math.round(0.06 * rate));
        for (let n = 0; n < mirror.length; n++) {
          const t = n / rate;
          mirror[n] = peak * (Math.sin(2 * Math.PI * (8000 - low) * t) + Math.sin(2 * Math.PI * (8000 - high) * t));
        }
        const recorded = toInt16(concat(silence(20, rate), mirror, silence(80, rate)));
        expect(digitsOf(detect(resampleTo8k(recorded, rate)))).toBe('');
      }
    });
  }

  it('maps output sample n to input time n/8000 s and keeps the length', () => {
    for (const rate of [11025, 12000, 16000, 22050, 32000, 44100, 48000]) {
      const input = new Int16Array(rate + 3);
      expect(resampleTo8k(input, rate)).toHaveLength(Math.floor(((rate + 3) * 8000) / rate));
    }
  });
});
