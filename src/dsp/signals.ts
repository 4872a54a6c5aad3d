import { digitFrequencies } from './dtmf-frequencies.js';
import { SAMPLE_RATE, dbm0ToPeak } from './levels.js';
import type { DtmfDigit } from './types.js';

/**
 * Synthesis of measurement signals in float samples (`toInt16` rounds and clips at the end): the
 * tests' Q.24 and masking signals, and the same battery `toneguard evidence` runs on a build.
 * 8 kHz unless a `sampleRate` is given, for recordings made at other rates.
 */

export const msToSamples = (ms: number, sampleRate = SAMPLE_RATE): number => Math.round((ms * sampleRate) / 1000);

export interface ToneShape {
  levelDbm0?: number;
  /** Relative frequency offset applied to both tones, e.g. 0.015. */
  deviation?: number;
  /** High-group level minus low-group level in dB (positive: high louder). Keeps the low tone at levelDbm0 when negative, the high tone when positive. */
  twistDb?: number;
  /** Phase offset in radians, so tests cover arbitrary starting phase. */
  phase?: number;
  sampleRate?: number;
}

export function digitTone(digit: DtmfDigit, ms: number, shape: ToneShape = {}): Float64Array {
  const [low, high] = digitFrequencies(digit);
  const level = shape.levelDbm0 ?? -10;
  const twist = shape.twistDb ?? 0;
  const lowPeak = dbm0ToPeak(twist > 0 ? level - twist : level);
  const highPeak = dbm0ToPeak(twist < 0 ? level + twist : level);
  const k = 1 + (shape.deviation ?? 0);
  const phase = shape.phase ?? 0;
  const rate = shape.sampleRate ?? SAMPLE_RATE;
  const out = new Float64Array(msToSamples(ms, rate));
  for (let n = 0; n < out.length; n++) {
    const t = n / rate;
    out[n] = lowPeak * Math.sin(2 * Math.PI * low * k * t + phase) + highPeak * Math.sin(2 * Math.PI * high * k * t + 2 * phase);
  }
  return out;
}

export function silence(ms: number, sampleRate = SAMPLE_RATE): Float64Array {
  return new Float64Array(msToSamples(ms, sampleRate));
}

export function concat(...parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Deterministic Gaussian white noise at `levelDbm0` (power of a sine at that level). */
export function addNoise(signal: Float64Array, levelDbm0: number, seed = 1): Float64Array {
  const sigma = dbm0ToPeak(levelDbm0) / Math.SQRT2;
  let state = seed >>> 0 || 1;
  const uniform = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state + 1) / 4294967297;
  };
  const out = new Float64Array(signal.length);
  for (let n = 0; n < signal.length; n++) {
    const g = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
    out[n] = signal[n] + sigma * g;
  }
  return out;
}

export function toInt16(signal: Float64Array): Int16Array {
  const out = new Int16Array(signal.length);
  for (let n = 0; n < signal.length; n++) out[n] = Math.max(-32768, Math.min(32767, Math.round(signal[n])));
  return out;
}

/** Where a keyed digit sits in a synthesised signal, in samples. */
export interface KeySpan {
  digit: DtmfDigit;
  start: number;
  end: number;
}

/** A card-number-like digit run with varied durations, gaps, levels and phases; spans in input samples at `shape.sampleRate`. */
export function keypresses(digits: string, shape: ToneShape = {}): { signal: Float64Array; spans: KeySpan[] } {
  const rate = shape.sampleRate ?? SAMPLE_RATE;
  const parts = [silence(200, rate)];
  const spans: KeySpan[] = [];
  let at = parts[0].length;
  [...digits].forEach((d, i) => {
    const digit = d as DtmfDigit;
    const tone = digitTone(digit, 40 + ((i * 7) % 50), { levelDbm0: -4 - ((i * 5) % 22), phase: i, ...shape });
    const gap = silence(40 + ((i * 13) % 60) + (i % 3) * 0.4, rate);
    spans.push({ digit, start: at, end: at + tone.length });
    parts.push(tone, gap);
    at += tone.length + gap.length;
  });
  parts.push(silence(200, rate));
  return { signal: concat(...parts), spans };
}
