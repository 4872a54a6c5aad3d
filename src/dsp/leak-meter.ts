import { digitFrequencies } from './dtmf-frequencies.js';
import { SAMPLE_RATE, dbm0ToPeak } from './levels.js';
import { msToSamples, type KeySpan, type ToneShape } from './signals.js';
import type { SampleRate } from './types.js';

/** Envelope window: 5 ms, whose nulls (multiples of 200 Hz) keep the other group's tone out. */
const ENVELOPE_MS = 5;

/**
 * Milliseconds of tone at `freqsHz` above `thresholdDbm0` in signal[from, to). Each tone is
 * demodulated to baseband and averaged over 5 ms; the samples whose envelope is above the
 * threshold are counted, less the averaging window's own spread, so a burst of d ms counts ≈ d.
 * The threshold is a sine's peak at that level, so it means the same at every rate.
 */
export function toneLeakMs(
  signal: Int16Array,
  from: number,
  to: number,
  freqsHz: readonly number[],
  thresholdDbm0 = -45,
  sampleRate: SampleRate = SAMPLE_RATE,
): number {
  const threshold = dbm0ToPeak(thresholdDbm0);
  const window = msToSamples(ENVELOPE_MS, sampleRate);
  let above = 0;
  const start = Math.max(0, from);
  const end = Math.min(signal.length, to);
  const envelopes = freqsHz.map((f) => envelope(signal, start, end, f, sampleRate, window));
  for (let n = 0; n < end - start; n++) if (envelopes.some((e) => e[n] >= threshold)) above++;
  return Math.max(0, above - (window - 1)) / (sampleRate / 1000);
}

/** Amplitude of the component at `freqHz`: 2·|moving average of x·e^{−jωn}| over `window` samples. */
function envelope(signal: Int16Array, from: number, to: number, freqHz: number, sampleRate: SampleRate, window: number): Float64Array {
  const w = (2 * Math.PI * freqHz) / sampleRate;
  const re = new Float64Array(to - from + 1);
  const im = new Float64Array(to - from + 1);
  for (let n = from; n < to; n++) {
    re[n - from + 1] = re[n - from] + signal[n] * Math.cos(w * n);
    im[n - from + 1] = im[n - from] - signal[n] * Math.sin(w * n);
  }
  const out = new Float64Array(to - from);
  for (let i = 0; i < out.length; i++) {
    const a = Math.max(0, i + 1 - window);
    out[i] = (2 * Math.hypot(re[i + 1] - re[a], im[i + 1] - im[a])) / window;
  }
  return out;
}

/** Leak per digit: tone above −45 dBm0 at the digit's frequencies, in time-aligned samples at `sampleRate`. */
export function leaks(aligned: Int16Array, spans: readonly KeySpan[], sampleRate: SampleRate = SAMPLE_RATE): number[] {
  return spans.map((s) =>
    toneLeakMs(aligned, s.start - msToSamples(20, sampleRate), s.end + msToSamples(40, sampleRate), digitFrequencies(s.digit), -45, sampleRate),
  );
}

/**
 * The tones' share of a silence-filled output, time-aligned to the input: the masker applies a gain
 * g = output / input per sample, and the tones pass as tones·g. Measuring that, rather than the
 * output itself, keeps the added noise (which legitimately passes) out of the leak figure.
 */
export function passedTones(tones: Int16Array, input: Int16Array, output: Int16Array, lookahead: number): Int16Array {
  const passed = new Int16Array(input.length - lookahead);
  for (let n = 0; n < passed.length; n++) {
    const x = input[n];
    const gain = x === 0 ? (output[n + lookahead] === 0 ? 0 : 1) : Math.min(1, Math.max(0, output[n + lookahead] / x));
    passed[n] = Math.round(tones[n] * gain);
  }
  return passed;
}

/** The signal cases the masking leak is measured on: name, tone shape, and the white noise level (dBm0) added, if any. */
export const MASKING_LEAK_CASES: readonly [name: string, shape: ToneShape, noiseDbm0: number | undefined][] = [
  ['nominal tones', {}, undefined],
  ['tones 1.5% high', { deviation: 0.015 }, undefined],
  ['tones 1.5% low', { deviation: -0.015 }, undefined],
  ['low group 8 dB louder', { twistDb: -8, levelDbm0: -6 }, undefined],
  ['high group 4 dB louder', { twistDb: 4, levelDbm0: -6 }, undefined],
  ['tones at −25 dBm0 in noise at 15 dB SNR', { levelDbm0: -25 }, -25 + 3 - 15],
];
