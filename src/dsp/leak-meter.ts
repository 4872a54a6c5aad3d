import { digitFrequencies } from './dtmf-frequencies.js';
import { SAMPLE_RATE, dbm0ToPeak } from './levels.js';
import { msToSamples, type KeySpan, type ToneShape } from './signals.js';

/** Envelope window: 5 ms, whose nulls (multiples of 200 Hz) keep the other group's tone out. */
const ENVELOPE_SAMPLES = 40;

/**
 * Milliseconds of tone at `freqsHz` above `thresholdDbm0` in signal[from, to). Each tone is
 * demodulated to baseband and averaged over 5 ms; the samples whose envelope is above the
 * threshold are counted, less the averaging window's own spread, so a burst of d ms counts ≈ d.
 */
export function toneLeakMs(signal: Int16Array, from: number, to: number, freqsHz: readonly number[], thresholdDbm0 = -45): number {
  const threshold = dbm0ToPeak(thresholdDbm0);
  let above = 0;
  const start = Math.max(0, from);
  const end = Math.min(signal.length, to);
  const envelopes = freqsHz.map((f) => envelope(signal, start, end, f));
  for (let n = 0; n < end - start; n++) if (envelopes.some((e) => e[n] >= threshold)) above++;
  return Math.max(0, above - (ENVELOPE_SAMPLES - 1)) / (SAMPLE_RATE / 1000);
}

/** Amplitude of the component at `freqHz`: 2·|moving average of x·e^{−jωn}|. */
function envelope(signal: Int16Array, from: number, to: number, freqHz: number): Float64Array {
  const w = (2 * Math.PI * freqHz) / SAMPLE_RATE;
  const re = new Float64Array(to - from + 1);
  const im = new Float64Array(to - from + 1);
  for (let n = from; n < to; n++) {
    re[n - from + 1] = re[n - from] + signal[n] * Math.cos(w * n);
    im[n - from + 1] = im[n - from] - signal[n] * Math.sin(w * n);
  }
  const out = new Float64Array(to - from);
  for (let i = 0; i < out.length; i++) {
    const a = Math.max(0, i + 1 - ENVELOPE_SAMPLES);
    const len = ENVELOPE_SAMPLES;
    out[i] = (2 * Math.hypot(re[i + 1] - re[a], im[i + 1] - im[a])) / len;
  }
  return out;
}

/** Leak per digit: tone above −45 dBm0 at the digit's frequencies, in time-aligned samples. */
export function leaks(aligned: Int16Array, spans: readonly KeySpan[]): number[] {
  return spans.map((s) => toneLeakMs(aligned, s.start - msToSamples(20), s.end + msToSamples(40), digitFrequencies(s.digit)));
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
