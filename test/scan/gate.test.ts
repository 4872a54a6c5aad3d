import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detect } from '../../src/dsp/detect-events.js';
import { silentUnits, unitFrames, UNIT_MS } from '../../src/scan/gate.js';
import { resampleTo8k } from '../../src/scan/resample.js';
import { scanRecording } from '../../src/scan/scan-file.js';
import { keyedChannel, wavFile } from './recordings.js';

/** The silence gate, and the resampler's exactness when it passes silence for gated stretches. */

const MONO = { channels: 1, channel: 0 };
const RATES = [11025, 16000, 22050, 44100, 48000];

/** `samples` with every unit the gate marks set to zero: what the gated resampler must match exactly. */
function zeroed(samples: Int16Array, silent: Uint8Array, rate: number): Int16Array {
  const unit = unitFrames(rate);
  const out = Int16Array.from(samples);
  silent.forEach((s, u) => s && out.fill(0, u * unit, (u + 1) * unit));
  return out;
}

describe('the scan’s silence gate', () => {
  it('gates the pauses of a keyed call over −60 dBm0 line noise, never a unit within 100 ms of a keypress', () => {
    const rate = 44100;
    const { samples, spans } = keyedChannel([{ pauseMs: 2000, digits: '4111' }, { pauseMs: 1500, digits: '12' }], { sampleRate: rate, tailMs: 2000 });
    const silent = silentUnits(samples, MONO, rate);
    const near = (u: number) => spans.some(({ startMs, endMs }) => (u + 1) * UNIT_MS > startMs - 100 && u * UNIT_MS < endMs + 100);
    silent.forEach((s, u) => near(u) && expect(s).toBe(0));
    // Most of the pauses are gated.
    expect(silent.reduce((a, b) => a + b, 0)).toBeGreaterThan(0.7 * silent.length);
  });

  it('gates nothing in audio at −45 dBm0 throughout', () => {
    const rate = 16000;
    const { samples } = keyedChannel([{ pauseMs: 500, digits: '' }], { sampleRate: rate, tailMs: 1000 });
    const loud = samples.map((x, i) => x + Math.round(300 * Math.sin(i * 0.3)));
    expect(silentUnits(loud, MONO, rate).every((s) => s === 0)).toBe(true);
  });

  for (const rate of RATES) {
    it(`at ${rate} Hz: the gated resampler gives exactly the resampling of the input with the gated units set to zero, and the same digits as the ungated one`, () => {
      const { samples } = keyedChannel([{ pauseMs: 700, digits: '5555' }, { pauseMs: 900, digits: '4' }], { sampleRate: rate, tailMs: 600, seed: rate });
      const silent = silentUnits(samples, MONO, rate);
      expect(silent.some((s) => s === 1)).toBe(true);
      const gated = resampleTo8k(samples, rate, MONO, silent);
      expect(gated).toEqual(resampleTo8k(zeroed(samples, silent, rate), rate));
      expect(detect(gated)).toEqual(detect(resampleTo8k(samples, rate)));
    });
  }

  it('matches the zeroed input exactly for any pattern of bursts and gaps (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...RATES),
        fc.array(fc.record({ gapMs: fc.integer({ min: 0, max: 400 }), burstMs: fc.integer({ min: 1, max: 60 }), level: fc.integer({ min: 0, max: 20000 }) }), { maxLength: 6 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (rate, bursts, seed) => {
          const ms = (n: number) => Math.round((n * rate) / 1000);
          const length = bursts.reduce((t, b) => t + ms(b.gapMs) + ms(b.burstMs), ms(200));
          const samples = new Int16Array(length);
          let state = seed;
          let at = 0;
          for (const { gapMs, burstMs, level } of bursts) {
            at += ms(gapMs);
            for (let i = 0; i < ms(burstMs); i++, at++) {
              state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
              samples[at] = Math.round(((state / 2 ** 32) * 2 - 1) * level);
            }
          }
          const silent = silentUnits(samples, MONO, rate);
          expect(resampleTo8k(samples, rate, MONO, silent)).toEqual(resampleTo8k(zeroed(samples, silent, rate), rate));
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('reading a channel of an interleaved recording', () => {
  it('resamples one channel of interleaved stereo exactly as that channel alone', () => {
    const rate = 44100;
    const left = keyedChannel([{ pauseMs: 100, digits: '12' }], { sampleRate: rate, seed: 1 }).samples;
    const right = keyedChannel([{ pauseMs: 300, digits: '9' }], { sampleRate: rate, seed: 2 }).samples.subarray(0, left.length);
    const both = new Int16Array(2 * left.length);
    left.forEach((x, i) => {
      both[2 * i] = x;
      both[2 * i + 1] = right[i];
    });
    expect(resampleTo8k(both, rate, { channels: 2, channel: 0 })).toEqual(resampleTo8k(left, rate));
    expect(resampleTo8k(both, rate, { channels: 2, channel: 1 })).toEqual(resampleTo8k(right, rate));
  });

  it('reads 16-bit WAV data at an odd byte offset (not readable in place) the same as aligned data', () => {
    const rate = 16000;
    const channel = keyedChannel([{ pauseMs: 300, digits: '4111111111111111' }], { sampleRate: rate }).samples;
    const wav = wavFile(rate, [channel, channel]);
    const shifted = Buffer.alloc(wav.length + 1);
    wav.copy(shifted, 1);
    const options = { redact: false, nowMs: Date.UTC(2026, 11, 1) };
    const aligned = scanRecording(wav, undefined, options);
    expect(aligned.cards.map((c) => c.last4)).toEqual(['1111', '1111']);
    expect(scanRecording(shifted.subarray(1), undefined, options)).toEqual(aligned);
  });
});
