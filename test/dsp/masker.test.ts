import { describe, expect, it } from 'vitest';
import { createToneMasker, type DtmfDigit, type MaskFill, type ToneMaskerOptions } from '../../src/dsp/index.js';
import { leaks, MASKING_LEAK_CASES, passedTones, toneLeakMs } from './leak.js';
import { addNoise, concat, digitTone, keypresses, msToSamples, silence, toInt16 } from './signals.js';
import { multimonDigits } from './tools.js';

function mask(input: Int16Array, options: ToneMaskerOptions = {}, frame = 160) {
  const masker = createToneMasker(options);
  const output = new Int16Array(input.length);
  for (let at = 0; at < input.length; at += frame) masker.process(input.subarray(at, at + frame), output.subarray(at, at + frame));
  return { output, masker };
}

const DIGITS = '4111111111111111' + '5555555555554444' + '0123456789*#ABCD';

describe('tone masker', () => {
  for (const [name, shape, noiseDbm0] of MASKING_LEAK_CASES) {
    it(`removes ${name} from the first sample: ≤ 1 ms leak per digit`, () => {
      const { signal, spans } = keypresses(DIGITS, shape);
      const tones = toInt16(signal);
      const input = noiseDbm0 === undefined ? tones : toInt16(addNoise(signal, noiseDbm0, 3));
      const { output, masker } = mask(input, { fill: 'silence' });
      expect(masker.lookaheadSamples).toBe(160);
      expect(output.length).toBe(input.length);
      const perDigit = leaks(passedTones(tones, input, output, masker.lookaheadSamples), spans);
      expect(Math.max(...perDigit)).toBeLessThanOrEqual(1);
      expect(masker.stats.digits).toBe(DIGITS.length);
      // The leak measure is live: the unmasked input leaks whole tones.
      expect(Math.min(...leaks(tones, spans))).toBeGreaterThanOrEqual(35);
    });
  }

  it('leaves nothing multimon-ng can decode, though it decodes the input', () => {
    const { signal } = keypresses(DIGITS);
    const input = toInt16(signal);
    expect(multimonDigits(input)).toBe(DIGITS);
    for (const fill of ['comfort-noise', 'silence', 'beep'] as MaskFill[]) {
      expect(multimonDigits(mask(input, { fill }).output)).toBe('');
    }
  });

  it('masks tones shorter than a digit too (20 ms bursts multimon-ng would hear)', () => {
    const parts = [silence(100)];
    for (const d of '0123456789') parts.push(digitTone(d as DtmfDigit, 20, { phase: Number(d) }), silence(80));
    const input = toInt16(concat(...parts));
    const { output, masker } = mask(input);
    expect(multimonDigits(output)).toBe('');
    expect(masker.stats.digits).toBe(0);
  });

  it('keeps masking through a 10 ms interruption', () => {
    const input = toInt16(concat(silence(100), digitTone('7', 45), silence(10), digitTone('7', 45, { phase: 2 }), silence(200)));
    const { output, masker } = mask(input);
    const start = msToSamples(100);
    const end = msToSamples(200);
    for (let n = start; n < end; n++) expect(Math.abs(output[n + masker.lookaheadSamples])).toBeLessThan(100);
    expect(masker.stats.digits).toBe(1);
  });

  it('passes audio through unchanged, delayed by the lookahead, when there is no tone', () => {
    const input = toInt16(addNoise(silence(500), -20, 5));
    for (const lookaheadMs of [0, 7.5, 20]) {
      const { output, masker } = mask(input, { lookaheadMs }, 97);
      const delay = masker.lookaheadSamples;
      expect(delay).toBe(msToSamples(lookaheadMs));
      expect(Array.from(output.subarray(0, delay))).toEqual(new Array(delay).fill(0));
      expect(Array.from(output.subarray(delay))).toEqual(Array.from(input.subarray(0, input.length - delay)));
      expect(masker.stats.maskedSamples).toBe(0);
    }
  });

  it('plays one uniform neutral beep per keypress with fill "beep"', () => {
    const { signal } = keypresses('1234');
    const { output } = mask(toInt16(signal), { fill: 'beep' });
    // Beep energy at 1000 Hz appears once per keypress and the digits' own frequencies do not.
    const beeps = countBursts(output, 1000);
    expect(beeps).toBe(4);
  });

  it('mutes everything while mask-all is on, and only then', () => {
    const input = toInt16(addNoise(silence(600), -10, 4));
    const masker = createToneMasker({ fill: 'silence' });
    const output = new Int16Array(input.length);
    const frames = input.length / 160;
    for (let f = 0; f < frames; f++) {
      masker.setMaskAll(f >= 10 && f < 20);
      masker.process(input.subarray(f * 160, (f + 1) * 160), output.subarray(f * 160, (f + 1) * 160));
    }
    for (let n = 10 * 160 + 8; n < 20 * 160; n++) expect(output[n]).toBe(0);
    expect(Array.from(output.subarray(20 * 160 + 8))).toEqual(Array.from(input.subarray(19 * 160 + 8, input.length - 160)));
    expect(masker.stats.maskedSamples).toBeGreaterThanOrEqual(10 * 160);
  });

  it('rejects a lookahead outside 0–20 ms', () => {
    expect(() => createToneMasker({ lookaheadMs: 21 })).toThrow(RangeError);
    expect(() => createToneMasker({ lookaheadMs: -1 })).toThrow(RangeError);
  });
});

/** Number of separate bursts (≥ 10 ms apart) of a tone at `freqHz` above −40 dBm0. */
function countBursts(signal: Int16Array, freqHz: number): number {
  let bursts = 0;
  let quietSince = Infinity;
  const step = 40;
  for (let at = 0; at + step <= signal.length; at += step) {
    const loud = toneLeakMs(signal, at - 40, at + step, [freqHz], -40) > 0;
    if (loud && quietSince >= msToSamples(10)) bursts++;
    quietSince = loud ? 0 : quietSince + step;
  }
  return bursts;
}
