import { DigitTracker } from './digit-tracker.js';
import { DtmfFilterBank, STAGE_SAMPLES } from './filter-bank.js';
import { checkSampleRate } from './levels.js';
import { roundSample } from './rounding.js';
import { ComfortNoise, NeutralBeep } from './tones.js';
import type { DigitListener, DtmfDigit, MaskFill, SampleRate, ToneMasker, ToneMaskerOptions, ToneMaskerStats } from './types.js';
import { WindowAnalysis, criteria } from './window-analysis.js';

export const DEFAULT_LOOKAHEAD_MS = 20;
export const MAX_LOOKAHEAD_MS = 20;

/**
 * Suspicion: a 10 ms window that looks like a tone pair (no duration rule, loose frequency and
 * twist rules) is enough to mask. It fires within 15 ms of a tone's onset, inside the 20 ms
 * lookahead, so the mask reaches back to the onset before any of the tone has left. Purity
 * (85% of the window's power in the pair) and twist within Q.24 plus 2 dB keep speech out
 * (tuned on espeak-ng speech: 0.03% muted).
 */
const SUSPICION_BLOCKS = 2;
export const SUSPICION_RULES = criteria({
  minToneDbm0: -45,
  maxNormalTwistDb: 10,
  maxReverseTwistDb: 6,
  minPeakDb: 2,
  minPairFraction: 0.85,
  maxDeviation: 0.05,
});
/**
 * Masking starts this far before the suspicious window: at least a block (the onset may sit in the
 * block before it), and as far as the lookahead leaves (lookahead − window − fade: 9 ms at 20 ms),
 * because at 16 kHz a hard onset's transient through the telephone-band filter can spoil the purity
 * of the first window the tone fills, so the first suspicious window may come a block later. No
 * further: beyond that the reach back would depend on where frames split blocks.
 */
const MIN_LEAD_BLOCKS = 1;
/** Masking continues this long after the last suspicious or digit-valid window: the tone's tail and short interruptions. */
const HANG_BLOCKS = 2;
/** Crossfade length between audio and fill: 1 ms, short enough to leak nothing, long enough not to click. */
const FADE_MS = 1;
/** Delay line length (power of two): lookahead plus one block of analysis plus headroom (20 + 5 ms is 400 samples at 16 kHz). */
const RING = 512;
const RING_MASK = RING - 1;

/** The contract plus `flush`, for callers that know the input has ended (files, hang-up). */
export interface FlushableToneMasker extends ToneMasker {
  flush(): void;
}

class Masker implements FlushableToneMasker {
  readonly lookaheadSamples: number;
  readonly stats: ToneMaskerStats = { maskedSamples: 0, digits: 0 };
  private readonly bank: DtmfFilterBank;
  /** The lead (see MIN_LEAD_BLOCKS), HANG_BLOCKS and FADE_MS in samples at the masker's rate. */
  private readonly leadSamples: number;
  private readonly hangSamples: number;
  private readonly fadeSamples: number;
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
  private holdUntil: number;
  /** Every delayed sample from here on has weight 0: nothing marked it. */
  private weightedUntil = 0;
  /**
   * Delayed samples in [fullFrom, fullThrough) are all at weight 1: fullThrough is `written` at the
   * last maskBack, and nothing lowers a weight before its sample leaves the delay line.
   */
  private fullFrom = 0;
  private fullThrough = 0;
  private maskAll = false;
  private maskAllWeight = 0;
  private previousWeight = 0;
  private readonly noise: ComfortNoise;
  private readonly beep: NeutralBeep;

  constructor(
    sampleRate: SampleRate,
    lookaheadMs: number,
    private readonly fill: MaskFill,
    listener: DigitListener,
  ) {
    this.bank = new DtmfFilterBank(sampleRate);
    this.hangSamples = HANG_BLOCKS * this.bank.blockLength;
    this.fadeSamples = (FADE_MS * sampleRate) / 1000;
    this.lookaheadSamples = Math.round((lookaheadMs * sampleRate) / 1000);
    const window = SUSPICION_BLOCKS * this.bank.blockLength;
    this.leadSamples = Math.max(MIN_LEAD_BLOCKS * this.bank.blockLength, this.lookaheadSamples - window - this.fadeSamples);
    this.holdUntil = -this.fadeSamples;
    this.noise = new ComfortNoise({ sampleRate });
    this.beep = new NeutralBeep(sampleRate);
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
    const bank = this.bank;
    let unaltered = true;
    for (let base = 0; base < input.length; base += STAGE_SAMPLES) {
      const end = Math.min(input.length, base + STAGE_SAMPLES);
      bank.stage(end - base === input.length ? input : input.subarray(base, end));
      for (let at = base; at < end; ) {
        const blocks = bank.blocks;
        const stop = base + bank.feedStaged(at - base, end - base);
        this.write(input, at, stop);
        if (bank.blocks !== blocks) this.onBlock();
        if (!this.emit(output, at, stop)) unaltered = false;
        at = stop;
      }
    }
    return unaltered;
  }

  private write(input: Int16Array, from: number, to: number): void {
    const { delay, weight, holdUntil, fadeSamples } = this;
    let t = this.written;
    this.written += to - from;
    // Weights need no zeroing here: emit clears each one as its sample leaves the delay line.
    if (t >= holdUntil + fadeSamples) {
      for (let n = from; n < to; n++, t++) delay[t & RING_MASK] = input[n];
      return;
    }
    for (let n = from; n < to; n++, t++) {
      delay[t & RING_MASK] = input[n];
      // Past the hold, the mask ramps back down to the audio over fadeSamples.
      const past = t - holdUntil;
      weight[t & RING_MASK] = past >= fadeSamples ? 0 : past < 0 ? 1 : 1 - (past + 1) / (fadeSamples + 1);
    }
    this.weightedUntil = this.written;
  }

  private onBlock(): void {
    this.tracker.onBlock();
    const end = this.bank.blocks * this.bank.blockLength;
    if (this.suspicion.analyse(SUSPICION_RULES) >= 0) {
      this.maskBack(end - SUSPICION_BLOCKS * this.bank.blockLength - this.leadSamples);
      this.holdUntil = Math.max(this.holdUntil, end + this.hangSamples);
    } else if (this.tracker.sounding) {
      this.holdUntil = Math.max(this.holdUntil, end + this.hangSamples);
    }
  }

  /** Marks the delayed samples from `start` to the newest as masked, fading in just before `start`. */
  private maskBack(start: number): void {
    const fade = this.fadeSamples;
    const first = Math.max(this.emitted - this.lookaheadSamples, start - fade);
    // While a tone lasts, each block re-marks a span the last call already set to 1: skip it.
    const extending = this.fullFrom <= start - fade && start <= this.fullThrough;
    const weight = this.weight;
    for (let t = extending ? Math.max(first, this.fullThrough) : first; t < this.written; t++) {
      const w = t < start ? (t - (start - fade) + 1) / (fade + 1) : 1;
      if (w > weight[t & RING_MASK]) weight[t & RING_MASK] = w;
    }
    if (!extending) this.fullFrom = Math.max(start, first);
    this.fullThrough = this.written;
    this.weightedUntil = this.written;
  }

  /** Emits output[from, to); true when every sample is the delayed input as it was. */
  private emit(output: Int16Array, from: number, to: number): boolean {
    const { delay, weight } = this;
    const maskAllActive = this.maskAll || this.maskAllWeight > 0;
    let t = this.emitted - this.lookaheadSamples;
    this.emitted += to - from;
    if (!maskAllActive && t >= this.weightedUntil && t >= 0) {
      // Nothing to mask in this span (the usual case): the delay line is copied out as it is.
      for (let n = from; n < to; n++, t++) output[n] = delay[t & RING_MASK];
      if (to > from) this.previousWeight = 0;
      return true;
    }
    if (!maskAllActive && this.fill !== 'beep' && t >= this.fullFrom && t + (to - from) <= this.fullThrough && t >= 0) {
      this.emitFill(output, from, to, t);
      return to === from;
    }
    const beep = this.fill === 'beep';
    const before = t;
    let previous = this.previousWeight;
    let masked = 0;
    for (let n = from; n < to; n++, t++) {
      const slot = t & RING_MASK;
      const delayed = t >= 0 ? delay[slot] : 0;
      let w = t >= 0 ? weight[slot] : 0;
      // The slot is next written one ring later, by then as unmasked unless marked again.
      weight[slot] = 0;
      if (maskAllActive) w = Math.max(w, this.stepMaskAll());
      if (w === 0) {
        previous = 0;
        output[n] = delayed;
        continue;
      }
      if (previous === 0 && beep) this.beep.restart();
      previous = w;
      masked++;
      // Fully masked samples are the fill itself (an integer): skip the blend.
      output[n] = w === 1 ? this.fillSample() : roundSample(delayed * (1 - w) + this.fillSample() * w);
    }
    this.previousWeight = previous;
    this.stats.maskedSamples += masked;
    return masked === 0 && before >= 0;
  }

  /** Emits output[from, to), delayed samples from `t` on, all inside the span maskBack set to weight 1: the fill itself. */
  private emitFill(output: Int16Array, from: number, to: number, t: number): void {
    const weight = this.weight;
    for (let n = from; n < to; n++, t++) weight[t & RING_MASK] = 0;
    if (this.fill === 'silence') output.fill(0, from, to);
    else this.noise.fillRange(output, from, to);
    if (to > from) this.previousWeight = 1;
    this.stats.maskedSamples += to - from;
  }

  /** Moves the mask-all weight one sample towards its target, so switching it fades rather than clicks. */
  private stepMaskAll(): number {
    const step = 1 / this.fadeSamples;
    this.maskAllWeight = this.maskAll ? Math.min(1, this.maskAllWeight + step) : Math.max(0, this.maskAllWeight - step);
    return this.maskAllWeight;
  }

  private fillSample(): number {
    if (this.fill === 'silence') return 0;
    if (this.fill === 'beep' && this.beep.sounding) return this.beep.next();
    return this.noise.next();
  }
}

/**
 * A per-stream tone masker: delays audio by the lookahead and replaces every DTMF tone from its
 * first sample. At 16 kHz it runs natively: the same 5 ms blocks, windows and rules (see
 * filter-bank.ts), so every figure in ms is what it is at 8 kHz; sample counts double.
 */
export function createToneMasker(options: ToneMaskerOptions, listener: DigitListener = {}): FlushableToneMasker {
  const sampleRate = checkSampleRate(options.sampleRate);
  const lookaheadMs = options.lookaheadMs ?? DEFAULT_LOOKAHEAD_MS;
  if (!(lookaheadMs >= 0 && lookaheadMs <= MAX_LOOKAHEAD_MS)) throw new RangeError('lookahead must be 0–20 ms');
  return new Masker(sampleRate, lookaheadMs, options.fill ?? 'comfort-noise', listener);
}
