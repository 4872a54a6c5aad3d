import { describe, expect, it } from 'vitest';
import { createToneMasker, dbm0ToPeak, type DtmfDigit, type MaskFill, type SampleRate, type ToneMaskerOptions } from '../../src/dsp/index.js';
import { judged, narrow } from './judges.js';
import { leaks, MASKING_LEAK_CASES, passedTones, toneLeakMs } from './leak.js';
import { addNoise, concat, digitTone, keypresses, msToSamples, silence, toInt16, type KeySpan, type ToneShape } from './signals.js';
import { multimonDigits } from './tools.js';

/**
 * The masking battery (leak, independent decoders, delay, fills, mask-all), every case in ms and
 * dBm0, run at the rate given: masker.test.ts at 8 kHz, wideband-masker.test.ts at 16 kHz. At a
 * rate other than 8 kHz the leak is measured twice: natively, and on the tones that passed after
 * sox brings them to 8 kHz; and the masked output faces multimon-ng, spandsp and the 8 kHz
 * receiver after the same downsampling.
 */

const DIGITS = '4111111111111111' + '5555555555554444' + '0123456789*#ABCD';

export function describeMaskingBattery(sampleRate: SampleRate): void {
  const wideband = sampleRate !== 8000;
  const ms = (x: number) => msToSamples(x, sampleRate);
  /** A 20 ms frame, as the media path carries. */
  const frame20 = ms(20);
  const tone = (digit: DtmfDigit, length: number, shape: ToneShape = {}) => digitTone(digit, length, { ...shape, sampleRate });
  const gap = (length: number) => silence(length, sampleRate);

  function mask(input: Int16Array, options: ToneMaskerOptions = {}, frame = frame20) {
    const masker = createToneMasker({ ...options, sampleRate });
    const output = new Int16Array(input.length);
    for (let at = 0; at < input.length; at += frame) masker.process(input.subarray(at, at + frame), output.subarray(at, at + frame));
    return { output, masker };
  }

  /** Leak per digit of the tones that passed, natively and (wideband) once sox has brought them to 8 kHz. */
  function leakReadings(passed: Int16Array, spans: KeySpan[]): number[][] {
    const native = leaks(passed, spans, sampleRate);
    if (!wideband) return [native];
    const scale = 8000 / sampleRate;
    const narrowSpans = spans.map((s) => ({ ...s, start: Math.round(s.start * scale), end: Math.round(s.end * scale) }));
    return [native, leaks(narrow(passed, sampleRate), narrowSpans, 8000)];
  }

  describe(`tone masker${wideband ? ` at ${sampleRate / 1000} kHz` : ''}`, () => {
    for (const [name, shape, noiseDbm0] of MASKING_LEAK_CASES) {
      it(`removes ${name} from the first sample: ≤ 1 ms leak per digit`, () => {
        const { signal, spans } = keypresses(DIGITS, { ...shape, sampleRate });
        const tones = toInt16(signal);
        const input = noiseDbm0 === undefined ? tones : toInt16(addNoise(signal, noiseDbm0, 3));
        const { output, masker } = mask(input, { fill: 'silence' });
        expect(masker.lookaheadSamples).toBe(ms(20));
        expect(output.length).toBe(input.length);
        for (const perDigit of leakReadings(passedTones(tones, input, output, masker.lookaheadSamples), spans)) {
          expect(Math.max(...perDigit)).toBeLessThanOrEqual(1);
        }
        expect(masker.stats.digits).toBe(DIGITS.length);
        // The leak measure is live: the unmasked input leaks whole tones.
        for (const perDigit of leakReadings(tones, spans)) expect(Math.min(...perDigit)).toBeGreaterThanOrEqual(35);
      });
    }

    it(`leaves nothing multimon-ng, spandsp or the 8 kHz receiver can decode${wideband ? ' once sox brings it to 8 kHz' : ''}, though they decode the input`, () => {
      const { signal } = keypresses(DIGITS, { sampleRate });
      const input = toInt16(signal);
      expect(judged(input, sampleRate)).toEqual({ multimon: DIGITS, spandsp: DIGITS, receiver: DIGITS });
      for (const fill of ['comfort-noise', 'silence', 'beep'] as MaskFill[]) {
        expect(judged(mask(input, { fill }).output, sampleRate)).toEqual({ multimon: '', spandsp: '', receiver: '' });
      }
    });

    if (wideband) {
      it('masks tone pairs under loud content above 4 kHz (which an 8 kHz copy drops): nothing decodable after sox', () => {
        const { signal } = keypresses(DIGITS, { sampleRate, levelDbm0: -20 });
        for (const levelDbm0 of [-20, -10, -5]) {
          const input = toInt16(addAboveBand(signal, levelDbm0, sampleRate));
          expect(judged(input, sampleRate).multimon).toBe(DIGITS);
          const { output, masker } = mask(input);
          expect(judged(output, sampleRate)).toEqual({ multimon: '', spandsp: '', receiver: '' });
          expect(masker.stats.digits).toBe(DIGITS.length);
        }
      });
    }

    it('masks tones shorter than a digit too (20 ms bursts multimon-ng would hear)', () => {
      const parts = [gap(100)];
      for (const d of '0123456789') parts.push(tone(d as DtmfDigit, 20, { phase: Number(d) }), gap(80));
      const input = toInt16(concat(...parts));
      const { output, masker } = mask(input);
      expect(multimonDigits(narrow(output, sampleRate))).toBe('');
      expect(masker.stats.digits).toBe(0);
    });

    it('keeps masking through a 10 ms interruption', () => {
      const input = toInt16(concat(gap(100), tone('7', 45), gap(10), tone('7', 45, { phase: 2 }), gap(200)));
      const { output, masker } = mask(input);
      const start = ms(100);
      const end = ms(200);
      for (let n = start; n < end; n++) expect(Math.abs(output[n + masker.lookaheadSamples])).toBeLessThan(100);
      expect(masker.stats.digits).toBe(1);
    });

    it('passes audio through unchanged, delayed by the lookahead, when there is no tone', () => {
      const input = toInt16(addNoise(gap(500), -20, 5));
      for (const lookaheadMs of [0, 7.5, 20]) {
        const { output, masker } = mask(input, { lookaheadMs }, 97);
        const delay = masker.lookaheadSamples;
        expect(delay).toBe(ms(lookaheadMs));
        expect(Array.from(output.subarray(0, delay))).toEqual(new Array(delay).fill(0));
        expect(Array.from(output.subarray(delay))).toEqual(Array.from(input.subarray(0, input.length - delay)));
        expect(masker.stats.maskedSamples).toBe(0);
      }
    });

    it('plays one uniform neutral beep per keypress with fill "beep"', () => {
      const { signal } = keypresses('1234', { sampleRate });
      const { output } = mask(toInt16(signal), { fill: 'beep' });
      // Beep energy at 1000 Hz appears once per keypress and the digits' own frequencies do not.
      const beeps = countBursts(output, 1000, sampleRate);
      expect(beeps).toBe(4);
    });

    it('mutes everything while mask-all is on, and only then', () => {
      const input = toInt16(addNoise(gap(600), -10, 4));
      const masker = createToneMasker({ fill: 'silence', sampleRate });
      const output = new Int16Array(input.length);
      const frames = input.length / frame20;
      const fade = ms(1);
      for (let f = 0; f < frames; f++) {
        masker.setMaskAll(f >= 10 && f < 20);
        masker.process(input.subarray(f * frame20, (f + 1) * frame20), output.subarray(f * frame20, (f + 1) * frame20));
      }
      for (let n = 10 * frame20 + fade; n < 20 * frame20; n++) expect(output[n]).toBe(0);
      expect(Array.from(output.subarray(20 * frame20 + fade))).toEqual(Array.from(input.subarray(19 * frame20 + fade, input.length - frame20)));
      expect(masker.stats.maskedSamples).toBeGreaterThanOrEqual(10 * frame20);
    });

    it('rejects a lookahead outside 0–20 ms', () => {
      expect(() => createToneMasker({ lookaheadMs: 21, sampleRate })).toThrow(RangeError);
      expect(() => createToneMasker({ lookaheadMs: -1, sampleRate })).toThrow(RangeError);
    });
  });
}

/** Number of separate bursts (≥ 10 ms apart) of a tone at `freqHz` above −40 dBm0. */
function countBursts(signal: Int16Array, freqHz: number, sampleRate: SampleRate): number {
  let bursts = 0;
  let quietSince = Infinity;
  const step = msToSamples(5, sampleRate);
  for (let at = 0; at + step <= signal.length; at += step) {
    const loud = toneLeakMs(signal, at - step, at + step, [freqHz], -40, sampleRate) > 0;
    if (loud && quietSince >= msToSamples(10, sampleRate)) bursts++;
    quietSince = loud ? 0 : quietSince + step;
  }
  return bursts;
}

/** `signal` plus 24 sines spread over 4.2–7.8 kHz at random phases, `levelDbm0` in all: content only a wideband stream carries. */
function addAboveBand(signal: Float64Array, levelDbm0: number, sampleRate: SampleRate): Float64Array {
  const count = 24;
  const peak = dbm0ToPeak(levelDbm0 - 10 * Math.log10(count));
  const out = Float64Array.from(signal);
  for (let k = 0; k < count; k++) {
    const w = (2 * Math.PI * (4200 + k * 150 + ((k * 37) % 50))) / sampleRate;
    const phase = k * 2.4;
    for (let n = 0; n < out.length; n++) out[n] += peak * Math.sin(w * n + phase);
  }
  return out;
}
