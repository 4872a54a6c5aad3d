import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DtmfDigit, SampleRate } from '../../src/dsp/index.js';
import { detect, digitsOf } from './detect.js';
import { addNoise, concat, digitTone, msToSamples, silence, toInt16, type ToneShape } from './signals.js';

/**
 * The Q.24 receiver figures from shared/reference/dtmf-and-pci.md, each at its edge. Every case
 * is written in ms and dBm0 and run at the rate given: detector.test.ts runs it at 8 kHz,
 * wideband-q24.test.ts at 16 kHz, so both rates face exactly the same cases.
 */

const ALL_DIGITS: DtmfDigit[] = ['1', '2', '3', 'A', '4', '5', '6', 'B', '7', '8', '9', 'C', '*', '0', '#', 'D'];

export function describeQ24Battery(sampleRate: SampleRate): void {
  const tone = (digit: DtmfDigit, ms: number, shape: ToneShape = {}) => digitTone(digit, ms, { ...shape, sampleRate });
  const gap = (ms: number) => silence(ms, sampleRate);
  const run = (samples: Int16Array, frame?: number) => detect(samples, frame, sampleRate);
  const samples = (ms: number) => msToSamples(ms, sampleRate);

  /** One tone of `ms` between silences, started at a sub-block offset so block alignment varies. */
  function single(digit: DtmfDigit, ms: number, shape: ToneShape = {}, leadMs = 20): Int16Array {
    return toInt16(concat(gap(leadMs), tone(digit, ms, shape), gap(80)));
  }

  describe(`DTMF detector: Q.24 figures${sampleRate === 8000 ? '' : ` at ${sampleRate / 1000} kHz`}`, () => {
    it('detects every digit with start and end times within 2 ms', () => {
      for (const digit of ALL_DIGITS) {
        const events = run(single(digit, 60, { phase: 0.3 }, 23));
        expect(events).toHaveLength(1);
        expect(events[0].digit).toBe(digit);
        expect(Math.abs(events[0].startSample - samples(23))).toBeLessThanOrEqual(samples(2));
        expect(Math.abs(events[0].endSample - samples(83))).toBeLessThanOrEqual(samples(2));
      }
    });

    it('accepts ±1.5% frequency deviation and rejects ±3.5%', () => {
      for (const digit of ALL_DIGITS) {
        for (const deviation of [-0.015, 0.015]) expect(digitsOf(run(single(digit, 60, { deviation })))).toBe(digit);
        for (const deviation of [-0.035, 0.035]) expect(digitsOf(run(single(digit, 60, { deviation })))).toBe('');
      }
    });

    it('accepts 40 ms tones and rejects tones of 23 ms or less, whatever the alignment and phase', () => {
      for (let k = 0; k < 16; k++) {
        const leadMs = 10 + k * 0.3125;
        const shape = { phase: k * 0.7 };
        const digit = ALL_DIGITS[k];
        expect(digitsOf(run(single(digit, 40, shape, leadMs)))).toBe(digit);
        expect(digitsOf(run(single(digit, 23, shape, leadMs)))).toBe('');
        expect(digitsOf(run(single(digit, 20, shape, leadMs)))).toBe('');
      }
    });

    it('recognises 40 ms pauses (two digits) and bridges interruptions of 10 ms or less (one digit)', () => {
      for (let k = 0; k < 8; k++) {
        const digit = ALL_DIGITS[k * 2];
        const keyed = (phase: number) => tone(digit, 40, { phase });
        const paused = toInt16(concat(gap(10 + k * 0.6), keyed(0), gap(40), keyed(1), gap(80)));
        expect(digitsOf(run(paused))).toBe(digit + digit);
        for (const gapMs of [5, 10]) {
          const interrupted = toInt16(concat(gap(10 + k * 0.6), keyed(0), gap(gapMs), keyed(2), gap(80)));
          expect(digitsOf(run(interrupted))).toBe(digit);
        }
      }
    });

    it('operates from 0 to −25 dBm0 per tone and not at −55 dBm0', () => {
      for (const digit of ALL_DIGITS) {
        for (const levelDbm0 of [0, -12, -25]) expect(digitsOf(run(single(digit, 50, { levelDbm0 })))).toBe(digit);
        expect(digitsOf(run(single(digit, 50, { levelDbm0: -55 })))).toBe('');
      }
    });

    it('accepts twist: low group 8 dB louder, high group 4 dB louder', () => {
      for (const digit of ALL_DIGITS) {
        expect(digitsOf(run(single(digit, 50, { twistDb: -8, levelDbm0: -4 })))).toBe(digit);
        expect(digitsOf(run(single(digit, 50, { twistDb: 4, levelDbm0: -4 })))).toBe(digit);
        expect(digitsOf(run(single(digit, 50, { twistDb: -8, levelDbm0: -15, deviation: 0.015 })))).toBe(digit);
      }
    });

    it('holds at 15 dB SNR in white noise: 40 ms tones with 40 ms pauses', () => {
      const levelDbm0 = -20;
      // Two tones at −20 dBm0 carry −17 dBm0 together; the noise sits 15 dB below that.
      const noiseDbm0 = levelDbm0 + 10 * Math.log10(2) - 15;
      const parts = [gap(40)];
      for (const [k, digit] of ALL_DIGITS.entries()) parts.push(tone(digit, 40, { levelDbm0, phase: k }), gap(40));
      for (let seed = 1; seed <= 3; seed++) {
        expect(digitsOf(run(toInt16(addNoise(concat(...parts), noiseDbm0, seed))))).toBe(ALL_DIGITS.join(''));
      }
    });

    it('finds nothing in white noise alone', () => {
      expect(run(toInt16(addNoise(gap(5000), -10, 9)))).toEqual([]);
    });

    it('gives the same events for any framing of the stream', () => {
      const signal = toInt16(
        concat(gap(17), tone('4', 45), gap(45), tone('1', 70, { phase: 1 }), gap(40), tone('#', 41), gap(30)),
      );
      const reference = run(signal);
      expect(digitsOf(reference)).toBe('41#');
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 400 }), (frame) => {
          expect(run(signal, frame)).toEqual(reference);
        }),
        { numRuns: 40 },
      );
    });
  });
}
