import { SAMPLE_RATE, checkSampleRate, dbm0ToPeak } from './levels.js';
import { roundSample } from './rounding.js';
import type { SampleRate } from './types.js';

/**
 * Writes the sum of sines at `freqsHz`, each at `levelDbm0`, into `out`. `startPhaseSample`
 * is the sample index of out[0] on the tone's own clock, so consecutive frames join seamlessly.
 */
export function generateTone(out: Int16Array, freqsHz: readonly number[], levelDbm0: number, startPhaseSample = 0, sampleRate: SampleRate = SAMPLE_RATE): void {
  const peak = dbm0ToPeak(levelDbm0);
  const twoPiOverRate = (2 * Math.PI) / checkSampleRate(sampleRate);
  for (let i = 0; i < out.length; i++) {
    let v = 0;
    for (let f = 0; f < freqsHz.length; f++) v += Math.sin(twoPiOverRate * freqsHz[f] * (startPhaseSample + i));
    out[i] = clamp16(peak * v);
  }
}

function clamp16(v: number): number {
  const r = Math.round(v);
  return r > 32767 ? 32767 : r < -32768 ? -32768 : r;
}

/** Level of the comfort noise that replaces masked audio: audible as "line open", nothing more. */
export const COMFORT_NOISE_DBM0 = -65;

export interface ComfortNoiseOptions {
  sampleRate?: SampleRate;
  levelDbm0?: number;
  /** Start state of the generator: streams given different seeds get different noise. */
  seed?: number;
}

/**
 * White comfort noise from a per-stream xorshift generator (no allocation, deterministic per seed).
 * The level is what the 0–4 kHz telephone band carries: at 16 kHz the same noise spreads over
 * twice the band, so it gets twice the power, and an 8 kHz copy of it sounds as the 8 kHz noise does.
 */
export class ComfortNoise {
  private state: number;
  private readonly amplitude: number;
  /** Maps the generator's 32 bits onto [−amplitude, amplitude). */
  private readonly scale: number;

  constructor({ sampleRate = SAMPLE_RATE, levelDbm0 = COMFORT_NOISE_DBM0, seed = 0x2545f491 }: ComfortNoiseOptions = {}) {
    this.state = seed | 1;
    // Uniform noise in [-a, a] has RMS a/√3; match the RMS of a sine at the level (per 4 kHz of band).
    this.amplitude = (dbm0ToPeak(levelDbm0) / Math.SQRT2) * Math.sqrt(3) * Math.sqrt(checkSampleRate(sampleRate) / SAMPLE_RATE);
    this.scale = (2 * this.amplitude) / 4294967296;
  }

  /** The next noise sample. */
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x;
    return roundSample((x >>> 0) * this.scale - this.amplitude);
  }

  /** Writes noise into out[from, to): the masker's fully masked spans, without a call per sample. */
  fillRange(out: Int16Array, from: number, to: number): void {
    const { scale, amplitude } = this;
    let x = this.state;
    for (let n = from; n < to; n++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[n] = roundSample((x >>> 0) * scale - amplitude);
    }
    this.state = x;
  }

  fill(out: Int16Array): void {
    this.fillRange(out, 0, out.length);
  }
}

/** 1000 Hz: 6.3% above 941 Hz and 17% below 1209 Hz, so no DTMF receiver hears it as a digit tone. */
export const NEUTRAL_BEEP_HZ = 1000;
export const NEUTRAL_BEEP_DBM0 = -20;
/** Every keypress sounds the same: this long at most, whatever the tone's length. */
export const NEUTRAL_BEEP_MS = 80;

/** One uniform beep per keypress. `restart()` at each keypress, then pull samples with `next()`. */
export class NeutralBeep {
  private position: number;
  private readonly peak = dbm0ToPeak(NEUTRAL_BEEP_DBM0);
  private readonly step: number;
  readonly lengthSamples: number;

  constructor(sampleRate: SampleRate = SAMPLE_RATE) {
    const rate = checkSampleRate(sampleRate);
    this.step = ((2 * Math.PI) / rate) * NEUTRAL_BEEP_HZ;
    this.lengthSamples = (NEUTRAL_BEEP_MS * rate) / 1000;
    this.position = this.lengthSamples;
  }

  restart(): void {
    this.position = 0;
  }

  get sounding(): boolean {
    return this.position < this.lengthSamples;
  }

  /** The next beep sample, or 0 once the beep has finished. */
  next(): number {
    if (this.position >= this.lengthSamples) return 0;
    const p = this.position++;
    return roundSample(this.peak * Math.sin(this.step * p));
  }
}

/** US ringback (ANSI T1.401): 440 + 480 Hz at −19 dBm0 per tone, 2 s on, 4 s off. */
export const RINGBACK_HZ: readonly number[] = [440, 480];
export const RINGBACK_DBM0 = -19;
const RINGBACK_PEAK = dbm0ToPeak(RINGBACK_DBM0);
const RINGBACK_ON_S = 2;
const RINGBACK_CYCLE_S = 6;

/** Ringback for callers waiting; `fill` continues the cadence across frames. */
export class Ringback {
  private position = 0;
  private readonly onSamples: number;
  private readonly cycleSamples: number;
  private readonly twoPiOverRate: number;

  constructor(sampleRate: SampleRate = SAMPLE_RATE) {
    const rate = checkSampleRate(sampleRate);
    this.onSamples = RINGBACK_ON_S * rate;
    this.cycleSamples = RINGBACK_CYCLE_S * rate;
    this.twoPiOverRate = (2 * Math.PI) / rate;
  }

  fill(out: Int16Array): void {
    for (let i = 0; i < out.length; i++) {
      const p = this.position;
      this.position = (p + 1) % this.cycleSamples;
      if (p >= this.onSamples) {
        out[i] = 0;
        continue;
      }
      let v = 0;
      for (let f = 0; f < RINGBACK_HZ.length; f++) v += Math.sin(this.twoPiOverRate * RINGBACK_HZ[f] * p);
      out[i] = clamp16(RINGBACK_PEAK * v);
    }
  }
}
