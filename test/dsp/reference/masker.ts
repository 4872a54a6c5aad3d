/**
 * Test reference: the tone masker as it was before the fast paths (git main before issue 15),
 * kept verbatim so test/dsp/fast-path.test.ts can show the optimised one produces identical output.
 */
import { DigitTracker } from '../../../src/dsp/digit-tracker.js';
import { BLOCK, DtmfFilterBank } from '../../../src/dsp/filter-bank.js';
import { SAMPLE_RATE } from '../../../src/dsp/levels.js';
import { ComfortNoise, NeutralBeep } from '../../../src/dsp/tones.js';
import type { FlushableToneMasker } from '../../../src/dsp/masker.js';
import type { DigitListener, DtmfDigit, MaskFill, ToneMaskerOptions, ToneMaskerStats } from '../../../src/dsp/types.js';
import { WindowAnalysis, criteria } from '../../../src/dsp/window-analysis.js';

const DEFAULT_LOOKAHEAD_MS = 20;
const MAX_LOOKAHEAD_MS = 20;

/**
 * Suspicion: a 10 ms window that looks like a tone pair (no duration rule, loose frequency and
 * twist rules) is enough to mask. It fires within 15 ms of a tone's onset, inside the 20 ms
 * lookahead, so the mask reaches back to the onset before any of the tone has left. Purity
 * (85% of the window's power in the pair) and twist within Q.24 plus 2 dB keep speech out
 * (tuned on espeak-ng speech: 0.03% muted).
 */
const SUSPICION_BLOCKS = 2;
const SUSPICION_RULES = criteria({
  minToneDbm0: -45,
  maxNormalTwistDb: 10,
  maxReverseTwistDb: 6,
  minPeakDb: 2,
  minPairFraction: 0.85,
  maxDeviation: 0.05,
});
/** Masking continues this long after the last suspicious or digit-valid window: the tone's tail and short interruptions. */
const HANG_SAMPLES = 2 * BLOCK;
/** Crossfade length between audio and fill: 1 ms, short enough to leak nothing, long enough not to click. */
const FADE_SAMPLES = 8;
/** Delay line length (power of two): lookahead plus one block of analysis plus headroom. */
const RING = 512;
const RING_MASK = RING - 1;


class Masker implements FlushableToneMasker {
  readonly lookaheadSamples: number;
  private readonly leadSamples: number;
  readonly stats: ToneMaskerStats = { maskedSamples: 0, digits: 0 };
  private readonly bank = new DtmfFilterBank();
  private readonly tracker: DigitTracker;
  private readonly suspicion: WindowAnalysis;
  private readonly delay = new Int16Array(RING);
  /** Fill weight per delayed sample: 0 passes audio, 1 replaces it. */
  private readonly weight = new Float32Array(RING);
  /** Input samples written into the delay line so far. */
  private written = 0;
  /** Output samples produced so far; output sample n is input sample n − lookahead. */
  private emitted = 0;
  /** Input samples before this are masked as they arrive; starts where no fade-out is due. */
  private holdUntil = -FADE_SAMPLES;
  private maskAll = false;
  private maskAllWeight = 0;
  private previousWeight = 0;
  private readonly noise = new ComfortNoise();
  private readonly beep = new NeutralBeep();

  constructor(
    lookaheadMs: number,
    private readonly fill: MaskFill,
    listener: DigitListener,
  ) {
    this.lookaheadSamples = Math.round((lookaheadMs * SAMPLE_RATE) / 1000);
    // Lead as far as the lookahead leaves, at least a block (since the 16 kHz onset fix: src/dsp/masker.ts).
    this.leadSamples = Math.max(BLOCK, this.lookaheadSamples - SUSPICION_BLOCKS * BLOCK - FADE_SAMPLES);
    const stats = this.stats;
    this.tracker = new DigitTracker(this.bank, {
      digitStart(digit: DtmfDigit, startSample: number) {
        stats.digits++;
        listener.digitStart?.(digit, startSample);
      },
      digitEnd: listener.digitEnd?.bind(listener),
    });
    this.suspicion = new WindowAnalysis(this.bank, SUSPICION_BLOCKS);
  }

  /** Ends a digit still sounding at end of input, reporting it through digitEnd (as DtmfDetector.flush). */
  flush(): void {
    this.tracker.flush();
  }

  setMaskAll(on: boolean): void {
    this.maskAll = on;
  }

  process(input: Int16Array, output: Int16Array): boolean {
    let unaltered = true;
    let at = 0;
    while (at < input.length) {
      const blocks = this.bank.blocks;
      const stop = this.bank.feed(input, at, input.length);
      this.write(input, at, stop);
      if (this.bank.blocks !== blocks) this.onBlock();
      if (!this.emit(output, at, stop)) unaltered = false;
      at = stop;
    }
    return unaltered;
  }

  private write(input: Int16Array, from: number, to: number): void {
    const { delay, weight, holdUntil } = this;
    let t = this.written;
    this.written += to - from;
    if (t >= holdUntil + FADE_SAMPLES) {
      for (let n = from; n < to; n++, t++) {
        delay[t & RING_MASK] = input[n];
        weight[t & RING_MASK] = 0;
      }
      return;
    }
    for (let n = from; n < to; n++, t++) {
      delay[t & RING_MASK] = input[n];
      // Past the hold, the mask ramps back down to the audio over FADE_SAMPLES.
      const past = t - holdUntil;
      weight[t & RING_MASK] = past >= FADE_SAMPLES ? 0 : past < 0 ? 1 : 1 - (past + 1) / (FADE_SAMPLES + 1);
    }
  }

  private onBlock(): void {
    this.tracker.onBlock();
    const end = this.bank.blocks * BLOCK;
    if (this.suspicion.analyse(SUSPICION_RULES) >= 0) {
      this.maskBack(end - SUSPICION_BLOCKS * BLOCK - this.leadSamples);
      this.holdUntil = Math.max(this.holdUntil, end + HANG_SAMPLES);
    } else if (this.tracker.sounding) {
      this.holdUntil = Math.max(this.holdUntil, end + HANG_SAMPLES);
    }
  }

  /** Marks the delayed samples from `start` to the newest as masked, fading in just before `start`. */
  private maskBack(start: number): void {
    const first = Math.max(this.emitted - this.lookaheadSamples, start - FADE_SAMPLES);
    for (let t = first; t < this.written; t++) {
      const w = t < start ? (t - (start - FADE_SAMPLES) + 1) / (FADE_SAMPLES + 1) : 1;
      if (w > this.weight[t & RING_MASK]) this.weight[t & RING_MASK] = w;
    }
  }

  private emit(output: Int16Array, from: number, to: number): boolean {
    let unaltered = true;
    const { delay, weight } = this;
    const maskAllActive = this.maskAll || this.maskAllWeight > 0;
    let previous = this.previousWeight;
    let t = this.emitted - this.lookaheadSamples;
    this.emitted += to - from;
    for (let n = from; n < to; n++, t++) {
      if (t < 0) unaltered = false;
      const delayed = t >= 0 ? delay[t & RING_MASK] : 0;
      let w = t >= 0 ? weight[t & RING_MASK] : 0;
      if (maskAllActive) w = Math.max(w, this.stepMaskAll());
      if (w === 0) {
        previous = 0;
        output[n] = delayed;
        continue;
      }
      if (previous === 0 && this.fill === 'beep') this.beep.restart();
      previous = w;
      unaltered = false;
      this.stats.maskedSamples++;
      output[n] = Math.round(delayed * (1 - w) + this.fillSample() * w);
    }
    this.previousWeight = previous;
    return unaltered;
  }

  /** Moves the mask-all weight one sample towards its target, so switching it fades rather than clicks. */
  private stepMaskAll(): number {
    const step = 1 / FADE_SAMPLES;
    this.maskAllWeight = this.maskAll ? Math.min(1, this.maskAllWeight + step) : Math.max(0, this.maskAllWeight - step);
    return this.maskAllWeight;
  }

  private fillSample(): number {
    if (this.fill === 'silence') return 0;
    if (this.fill === 'beep' && this.beep.sounding) return this.beep.next();
    return this.noise.next();
  }
}

/** A per-stream tone masker: delays audio by the lookahead and replaces every DTMF tone from its first sample. */
export function createReferenceMasker(options: ToneMaskerOptions, listener: DigitListener = {}): FlushableToneMasker {
  if (options.sampleRate !== undefined && options.sampleRate !== 8000) throw new RangeError('only 8000 Hz is supported');
  const lookaheadMs = options.lookaheadMs ?? DEFAULT_LOOKAHEAD_MS;
  if (!(lookaheadMs >= 0 && lookaheadMs <= MAX_LOOKAHEAD_MS)) throw new RangeError('lookahead must be 0–20 ms');
  return new Masker(lookaheadMs, options.fill ?? 'comfort-noise', listener);
}
