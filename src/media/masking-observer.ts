import type { MaskingView } from '../agent/contract.js';
import { PowerSpectrum } from '../dsp/power-spectrum.js';

const SAMPLES_PER_MS = 8;
/** 128-sample analysis windows give 64 bins of 62.5 Hz below the 4 kHz Nyquist. */
const WINDOW = 128;
/**
 * A window at the end of every 400 samples (50 ms), two per column. The gaps (34 ms) are shorter
 * than the shortest keypress tone (40 ms), so every tone shows; overlapping windows every 12.5 ms
 * made the observer cost as much as the masker on the media path (a quarter of the FFTs now).
 */
const HOP = 400;
const HOPS_PER_COLUMN = 2;
/** Where in each hop its window starts. */
const WINDOW_AT = HOP - WINDOW;
export const COLUMN_MS = (HOP * HOPS_PER_COLUMN) / SAMPLES_PER_MS;
/** The newest minute of columns is kept: 38 kB, about 51 kB of base64 in the view, whatever the call's length. */
const MAX_COLUMNS = 600;
/** Listeners hear the figures once a second of audio. */
const PUBLISH_EVERY_COLUMNS = 10;
export const FLOOR_DB = -120;
const FULL_SCALE = 32767;

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
  private readonly spectrum = new PowerSpectrum(WINDOW);
  private readonly window = new Float64Array(WINDOW);
  private readonly power = new Float64Array(WINDOW / 2);
  private readonly levels = new Uint8Array(MAX_COLUMNS * (WINDOW / 2));
  private readonly maskedPercent = new Uint8Array(MAX_COLUMNS);
  private readonly reference = this.spectrum.fullScalePower(FULL_SCALE);
  private samples = 0;
  private maskedSamples = 0;
  private keypresses = 0;
  private columns = 0;
  private columnMasked = 0;
  private columnWindows = 0;
  /** Samples into the current hop. */
  private hopFill = 0;

  /** `publish` hears the figures (without the spectrogram) every second of audio. */
  constructor(private readonly publish: (figures: MaskingView) => void = () => undefined) {}

  forwarded(samples: Int16Array, maskedSamples: number): void {
    this.maskedSamples += maskedSamples;
    this.columnMasked += maskedSamples;
    let i = 0;
    while (i < samples.length) {
      const n = Math.min(HOP - this.hopFill, samples.length - i);
      // Only the hop's last WINDOW samples are analysed.
      for (let p = Math.max(this.hopFill, WINDOW_AT); p < this.hopFill + n; p++) this.window[p - WINDOW_AT] = samples[i + p - this.hopFill];
      this.hopFill += n;
      this.samples += n;
      i += n;
      if (this.hopFill < HOP) continue;
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
      maskedMs: Math.round(this.maskedSamples / SAMPLES_PER_MS),
      keypresses: this.keypresses,
      audioMs: Math.round(this.samples / SAMPLES_PER_MS),
    };
  }

  /** The figures and the spectrogram of the newest minute, for the call's final view. */
  view(): MaskingView {
    const bins = this.power.length;
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
        binHz: (SAMPLES_PER_MS * 1000) / WINDOW,
        columnMs: COLUMN_MS,
        firstColumn: first,
        levels: Buffer.from(levels).toString('base64'),
        masked: Buffer.from(masked).toString('base64'),
        floorDb: FLOOR_DB,
      },
    };
  }

  private endColumn(): void {
    const bins = this.power.length;
    const slot = this.columns % MAX_COLUMNS;
    for (let k = 0; k < bins; k++) {
      const db = 10 * Math.log10(this.power[k] / this.columnWindows / this.reference + 1e-30);
      this.levels[slot * bins + k] = Math.max(0, Math.min(255, Math.round(db - FLOOR_DB)));
      this.power[k] = 0;
    }
    this.maskedPercent[slot] = Math.min(100, Math.round((100 * this.columnMasked) / (HOP * HOPS_PER_COLUMN)));
    this.columnMasked = 0;
    this.columnWindows = 0;
    this.columns++;
    if (this.columns % PUBLISH_EVERY_COLUMNS === 0) this.publish(this.figures());
  }
}
