import type { MaskingView } from '../agent/contract.js';
import type { SampleRate } from '../dsp/index.js';
import { PowerSpectrum } from '../dsp/power-spectrum.js';

/** 16 ms analysis windows (128 samples at 8 kHz, 256 at 16 kHz) give bins of 62.5 Hz. */
const WINDOW_MS = 16;
/** The view shows the 64 bins below 4 kHz at every rate: the telephone band, one picture for every call. */
const VIEW_BINS = 64;
/**
 * A window at the end of every 50 ms hop, two per column. The gaps (34 ms) are shorter than the
 * shortest keypress tone (40 ms), so every tone shows; overlapping windows every 12.5 ms made the
 * observer cost as much as the masker on the media path (a quarter of the FFTs now).
 */
const HOP_MS = 50;
const HOPS_PER_COLUMN = 2;
export const COLUMN_MS = HOP_MS * HOPS_PER_COLUMN;
/** The newest minute of columns is kept: 38 kB, about 51 kB of base64 in the view, whatever the call's length. */
const MAX_COLUMNS = 600;
/** Listeners hear the figures once a second of audio. */
const PUBLISH_EVERY_COLUMNS = 10;
export const FLOOR_DB = -120;
const FULL_SCALE = 32767;

/**
 * log2 without a library call per bin (64 `Math.log10` calls a column were a fifth of the
 * observer's time): a double's exponent plus log2 of its mantissa, from a table of the mantissa's
 * top 10 bits (bucket middles: at most 0.0007 off, 0.002 dB). Zero and subnormals read as about
 * -1023, far below the floor.
 */
const MANTISSA_BITS = 10;
const LOG2_MANTISSA = Float64Array.from({ length: 1 << MANTISSA_BITS }, (_, m) => Math.log2(1 + (m + 0.5) / (1 << MANTISSA_BITS)));
const scratch = new Float64Array(1);
const scratchWords = new Uint32Array(scratch.buffer);
/** The word holding sign, exponent and the mantissa's top bits. */
const HIGH_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const DB_PER_OCTAVE = 10 * Math.log10(2);

function fastLog2(x: number): number {
  scratch[0] = x;
  const high = scratchWords[HIGH_WORD];
  return (high >>> 20) - 1023 + LOG2_MANTISSA[(high >>> (20 - MANTISSA_BITS)) & ((1 << MANTISSA_BITS) - 1)];
}

/** The level byte of `power` against a reference power (given as its exact log2): dB above FLOOR_DB, 1 dB steps, 0 to 255. */
export function levelByte(power: number, referenceLog2: number): number {
  const db = DB_PER_OCTAVE * (fastLog2(power) - referenceLog2);
  return Math.max(0, Math.min(255, Math.round(db - FLOOR_DB)));
}

/** What the bridge tells the observer; implemented by `MaskingObserver`. */
export interface ForwardedAudioObserver {
  /** A frame as forwarded to the agent; the masker replaced `maskedSamples` of it. */
  forwarded(samples: Int16Array, maskedSamples: number): void;
  /** A keypress was heard (after merging tones with provider events). */
  keypress(): void;
}

/**
 * Accumulates what masking did on one call, from the audio forwarded to the agent only: masked
 * milliseconds, keypresses heard, and a coarse spectrogram (64 bins × one column per 100 ms).
 * It never sees a digit's name. The per-frame path allocates nothing; the spectrogram is encoded
 * once, for the final view.
 */
export class MaskingObserver implements ForwardedAudioObserver {
  private readonly perMs: number;
  private readonly hop: number;
  /** Where in each hop its window starts. */
  private readonly windowAt: number;
  private readonly spectrum: PowerSpectrum;
  private readonly window: Int16Array;
  private readonly power: Float64Array;
  private readonly levels = new Uint8Array(MAX_COLUMNS * VIEW_BINS);
  private readonly maskedPercent = new Uint8Array(MAX_COLUMNS);
  private readonly reference: number;
  private samples = 0;
  private maskedSamples = 0;
  private keypresses = 0;
  private columns = 0;
  private columnMasked = 0;
  private columnWindows = 0;
  /** Samples into the current hop. */
  private hopFill = 0;

  /** `publish` hears the figures (without the spectrogram) every second of audio; frames come at `sampleRate`. */
  constructor(
    private readonly publish: (figures: MaskingView) => void = () => undefined,
    sampleRate: SampleRate = 8000,
  ) {
    this.perMs = sampleRate / 1000;
    const size = WINDOW_MS * this.perMs;
    this.hop = HOP_MS * this.perMs;
    this.windowAt = this.hop - size;
    this.spectrum = new PowerSpectrum(size);
    this.window = new Int16Array(size);
    this.power = new Float64Array(this.spectrum.bins);
    this.reference = this.spectrum.fullScalePower(FULL_SCALE);
  }

  forwarded(samples: Int16Array, maskedSamples: number): void {
    this.maskedSamples += maskedSamples;
    this.columnMasked += maskedSamples;
    let i = 0;
    const { hop, windowAt } = this;
    while (i < samples.length) {
      const n = Math.min(hop - this.hopFill, samples.length - i);
      // Only the hop's last window of samples is analysed.
      for (let p = Math.max(this.hopFill, windowAt); p < this.hopFill + n; p++) this.window[p - windowAt] = samples[i + p - this.hopFill];
      this.hopFill += n;
      this.samples += n;
      i += n;
      if (this.hopFill < hop) continue;
      this.hopFill = 0;
      this.spectrum.accumulate(this.window, 0, this.power);
      if (++this.columnWindows === HOPS_PER_COLUMN) this.endColumn();
    }
  }

  keypress(): void {
    this.keypresses++;
  }

  /** Masked time, keypresses and audio length: small, for live updates. */
  figures(): MaskingView {
    return {
      maskedMs: Math.round(this.maskedSamples / this.perMs),
      keypresses: this.keypresses,
      audioMs: Math.round(this.samples / this.perMs),
    };
  }

  /** The figures and the spectrogram of the newest minute, for the call's final view. */
  view(): MaskingView {
    const bins = VIEW_BINS;
    const held = Math.min(this.columns, MAX_COLUMNS);
    const first = this.columns - held;
    const levels = new Uint8Array(held * bins);
    const masked = new Uint8Array(held);
    for (let c = 0; c < held; c++) {
      const slot = (first + c) % MAX_COLUMNS;
      levels.set(this.levels.subarray(slot * bins, (slot + 1) * bins), c * bins);
      masked[c] = this.maskedPercent[slot];
    }
    return {
      ...this.figures(),
      spectrogram: {
        bins,
        binHz: 1000 / WINDOW_MS,
        columnMs: COLUMN_MS,
        firstColumn: first,
        levels: Buffer.from(levels).toString('base64'),
        masked: Buffer.from(masked).toString('base64'),
        floorDb: FLOOR_DB,
      },
    };
  }

  private endColumn(): void {
    const bins = VIEW_BINS;
    const slot = this.columns % MAX_COLUMNS;
    const referenceLog2 = Math.log2(this.reference * this.columnWindows);
    for (let k = 0; k < bins; k++) this.levels[slot * bins + k] = levelByte(this.power[k], referenceLog2);
    this.power.fill(0);
    this.maskedPercent[slot] = Math.min(100, Math.round((100 * this.columnMasked) / (this.hop * HOPS_PER_COLUMN)));
    this.columnMasked = 0;
    this.columnWindows = 0;
    this.columns++;
    if (this.columns % PUBLISH_EVERY_COLUMNS === 0) this.publish(this.figures());
  }
}
