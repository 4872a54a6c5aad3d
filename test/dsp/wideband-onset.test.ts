import { describe, expect, it } from 'vitest';
import { createToneMasker, type DtmfDigit } from '../../src/dsp/index.js';
import { leaks, passedTones } from './leak.js';
import { concat, digitTone, silence, toInt16, type KeySpan } from './signals.js';

const RATE = 16000;

/**
 * The counterexample fast-check found (test/dsp/wideband-properties.test.ts, seed −629410513): a
 * '7' at −3 dBm0 with the low group 7.9 dB louder, between '1' tones. Its onset's transient through
 * the telephone-band filter spoiled the purity of the first window it filled, and with the mask
 * reaching back one block 3.1 ms of it passed.
 */
const KEYS: { digit: DtmfDigit; toneMs: number; gapMs: number; twistDb: number }[] = [
  { digit: '1', toneMs: 44.15625, gapMs: 40, twistDb: 0 },
  { digit: '1', toneMs: 40, gapMs: 68.15625, twistDb: 0 },
  { digit: '1', toneMs: 69.59375, gapMs: 93.78125, twistDb: 0 },
  { digit: '7', toneMs: 40, gapMs: 40, twistDb: -7.924866111670555 },
  { digit: '1', toneMs: 40, gapMs: 40, twistDb: 0 },
];

describe('16 kHz mask onset', () => {
  it('leaks nothing of a strongly twisted tone whose onset transient spoils its first window', () => {
    const parts = [silence(15.84375, RATE)];
    const spans: KeySpan[] = [];
    let at = parts[0].length;
    for (const { digit, toneMs, gapMs, twistDb } of KEYS) {
      const tone = digitTone(digit, toneMs, { levelDbm0: -3, twistDb, sampleRate: RATE });
      spans.push({ digit, start: at, end: at + tone.length });
      const gap = silence(gapMs, RATE);
      parts.push(tone, gap);
      at += tone.length + gap.length;
    }
    parts.push(silence(100, RATE));
    const samples = toInt16(concat(...parts));
    const masker = createToneMasker({ fill: 'silence', sampleRate: RATE });
    const output = new Int16Array(samples.length);
    for (let n = 0; n < samples.length; n += 320) masker.process(samples.subarray(n, n + 320), output.subarray(n, n + 320));
    expect(Math.max(...leaks(passedTones(samples, samples, output, masker.lookaheadSamples), spans, RATE))).toBeLessThanOrEqual(1);
    expect(masker.stats.digits).toBe(KEYS.length);
  });
});
