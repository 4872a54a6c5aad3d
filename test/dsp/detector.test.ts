import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DtmfDigit } from '../../src/dsp/index.js';
import { detect, digitsOf } from './detect.js';
import { addNoise, concat, digitTone, msToSamples, silence, toInt16, type ToneShape } from './signals.js';

/** The Q.24 receiver figures from shared/reference/dtmf-and-pci.md, each at its edge. */

const ALL_DIGITS: DtmfDigit[] = ['1', '2', '3', 'A', '4', '5', '6', 'B', '7', '8', '9', 'C', '*', '0', '#', 'D'];

/** One tone of `ms` between silences, started at a sub-block offset so block alignment varies. */
function single(digit: DtmfDigit, ms: number, shape: ToneShape = {}, leadMs = 20): Int16Array {
  return toInt16(concat(silence(leadMs), digitTone(digit, ms, shape), silence(80)));
}

describe('DTMF detector: Q.24 figures', () => {
  it('detects every digit with start and end times within 2 ms', () => {
    for (const digit of ALL_DIGITS) {
      const events = detect(single(digit, 60, { phase: 0.3 }, 23));
      expect(events).toHaveLength(1);
      expect(events[0].digit).toBe(digit);
      expect(Math.abs(events[0].startSample - msToSamples(23))).toBeLessThanOrEqual(16);
      expect(Math.abs(events[0].endSample - msToSamples(83))).toBeLessThanOrEqual(16);
    }
  });

  it('accepts ±1.5% frequency deviation and rejects ±3.5%', () => {
    for (const digit of ALL_DIGITS) {
      for (const deviation of [-0.015, 0.015]) expect(digitsOf(detect(single(digit, 60, { deviation })))).toBe(digit);
      for (const deviation of [-0.035, 0.035]) expect(digitsOf(detect(single(digit, 60, { deviation })))).toBe('');
    }
  });

  it('accepts 40 ms tones and rejects tones of 23 ms or less, whatever the alignment and phase', () => {
    for (let k = 0; k < 16; k++) {
      const leadMs = 10 + k * 0.3125;
      const shape = { phase: k * 0.7 };
      const digit = ALL_DIGITS[k];
      expect(digitsOf(detect(single(digit, 40, shape, leadMs)))).toBe(digit);
      expect(digitsOf(detect(single(digit, 23, shape, leadMs)))).toBe('');
      expect(digitsOf(detect(single(digit, 20, shape, leadMs)))).toBe('');
    }
  });

  it('recognises 40 ms pauses (two digits) and bridges interruptions of 10 ms or less (one digit)', () => {
    for (let k = 0; k < 8; k++) {
      const digit = ALL_DIGITS[k * 2];
      const tone = (phase: number) => digitTone(digit, 40, { phase });
      const paused = toInt16(concat(silence(10 + k * 0.6), tone(0), silence(40), tone(1), silence(80)));
      expect(digitsOf(detect(paused))).toBe(digit + digit);
      for (const gapMs of [5, 10]) {
        const interrupted = toInt16(concat(silence(10 + k * 0.6), tone(0), silence(gapMs), tone(2), silence(80)));
        expect(digitsOf(detect(interrupted))).toBe(digit);
      }
    }
  });

  it('operates from 0 to −25 dBm0 per tone and not at −55 dBm0', () => {
    for (const digit of ALL_DIGITS) {
      for (const levelDbm0 of [0, -12, -25]) expect(digitsOf(detect(single(digit, 50, { levelDbm0 })))).toBe(digit);
      expect(digitsOf(detect(single(digit, 50, { levelDbm0: -55 })))).toBe('');
    }
  });

  it('accepts twist: low group 8 dB louder, high group 4 dB louder', () => {
    for (const digit of ALL_DIGITS) {
      expect(digitsOf(detect(single(digit, 50, { twistDb: -8, levelDbm0: -4 })))).toBe(digit);
      expect(digitsOf(detect(single(digit, 50, { twistDb: 4, levelDbm0: -4 })))).toBe(digit);
      expect(digitsOf(detect(single(digit, 50, { twistDb: -8, levelDbm0: -15, deviation: 0.015 })))).toBe(digit);
    }
  });

  it('holds at 15 dB SNR in white noise: 40 ms tones with 40 ms pauses', () => {
    const levelDbm0 = -20;
    // Two tones at −20 dBm0 carry −17 dBm0 together; the noise sits 15 dB below that.
    const noiseDbm0 = levelDbm0 + 10 * Math.log10(2) - 15;
    const parts = [silence(40)];
    for (const [k, digit] of ALL_DIGITS.entries()) parts.push(digitTone(digit, 40, { levelDbm0, phase: k }), silence(40));
    for (let seed = 1; seed <= 3; seed++) {
      expect(digitsOf(detect(toInt16(addNoise(concat(...parts), noiseDbm0, seed))))).toBe(ALL_DIGITS.join(''));
    }
  });

  it('finds nothing in white noise alone', () => {
    expect(detect(toInt16(addNoise(silence(5000), -10, 9)))).toEqual([]);
  });

  it('gives the same events for any framing of the stream', () => {
    const signal = toInt16(
      concat(silence(17), digitTone('4', 45), silence(45), digitTone('1', 70, { phase: 1 }), silence(40), digitTone('#', 41), silence(30)),
    );
    const reference = detect(signal);
    expect(digitsOf(reference)).toBe('41#');
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 400 }), (frame) => {
        expect(detect(signal, frame)).toEqual(reference);
      }),
      { numRuns: 40 },
    );
  });
});
