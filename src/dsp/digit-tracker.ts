import type { DtmfFilterBank } from './filter-bank.js';
import { digitAt } from './dtmf-frequencies.js';
import type { DigitListener } from './types.js';
import { PairReference, WindowAnalysis, criteria } from './window-analysis.js';

/** The digit decision looks at 20 ms windows, one every 5 ms block. */
const DECISION_BLOCKS = 4;

/**
 * Q.24 signal rules. Frequency: accept ±1.5%, reject ±3.5%, so the cut is at 2.5%. Level: accept
 * −25 dBm0 per tone, reject −55, cut at −38. Twist: 8 dB / 4 dB plus 1.5 dB for measurement spread.
 */
export const DECISION_RULES = criteria({
  minToneDbm0: -38,
  maxNormalTwistDb: 9.5,
  maxReverseTwistDb: 5.5,
  minPeakDb: 8,
  minPairFraction: 0.7,
  maxDeviation: 0.025,
});

/**
 * Duration rules, in 5 ms hops of the 20 ms window. A window counts while the tone fills about
 * 70% of it, so a tone of D ms gives about (D − 8) / 5 valid hops: 23 ms gives at most 4, 40 ms
 * at least 6. A gap of G ms spoils about (G + 8) / 5 hops: 10 ms spoils at most 4, 40 ms at least 9.
 */
const ACCEPT_HOPS = 5;
const END_HOPS = 7;
/** Blocks whose pair fill is below this are taken as tone-free when locating onset and end. */
const EDGE_FILL = 0.15;

/**
 * The per-stream digit state machine over a filter bank: a candidate becomes a digit after
 * ACCEPT_HOPS agreeing windows, and a digit ends after END_HOPS windows without it. Misses
 * shorter than END_HOPS are bridged both before and after the decision.
 */
export class DigitTracker {
  /** The digit decided and still sounding (or in its end hangover), −1 if none. */
  active = -1;
  /** Digit index of the undecided candidate, −1 if none. */
  private candidate = -1;
  private validHops = 0;
  private misses = 0;
  private onsetSample = 0;
  private lastValidBlock = 0;
  private readonly window: WindowAnalysis;
  private readonly pair = new PairReference();

  constructor(
    private readonly bank: DtmfFilterBank,
    private readonly listener: DigitListener,
  ) {
    this.window = new WindowAnalysis(bank, DECISION_BLOCKS);
  }

  /** A decided digit's tone is in the latest window (not merely within its end hangover). */
  get sounding(): boolean {
    return this.active >= 0 && this.misses === 0;
  }

  /** Call after every completed block. */
  onBlock(): void {
    const digit = this.window.analyse(DECISION_RULES);
    const tracked = this.active >= 0 ? this.active : this.candidate;
    if (digit >= 0 && digit === tracked) {
      this.validHops++;
      this.misses = 0;
      this.lastValidBlock = this.bank.blocks - 1;
      this.pair.capture(this.window);
      if (this.active < 0 && this.validHops >= ACCEPT_HOPS) this.decide();
      return;
    }
    if (tracked >= 0 && ++this.misses < END_HOPS) return;
    this.finish();
    if (digit >= 0) this.startCandidate(digit);
  }

  /** Ends a digit still sounding (end of input). */
  flush(): void {
    this.finish();
  }

  private startCandidate(digit: number): void {
    this.candidate = digit;
    this.validHops = 1;
    this.misses = 0;
    this.lastValidBlock = this.bank.blocks - 1;
    this.pair.capture(this.window);
    this.onsetSample = this.estimateOnset();
  }

  private decide(): void {
    this.active = this.candidate;
    this.listener.digitStart?.(digitAt(this.active >> 2, this.active & 3), this.onsetSample);
  }

  private finish(): void {
    if (this.active >= 0) {
      this.listener.digitEnd?.({
        digit: digitAt(this.active >> 2, this.active & 3),
        startSample: this.onsetSample,
        endSample: this.estimateEnd(),
      });
    }
    this.active = -1;
    this.candidate = -1;
    this.validHops = 0;
    this.misses = 0;
  }

  /** Walks back from the first valid window to the earliest block the pair fills, interpolating inside it. */
  private estimateOnset(): number {
    const last = this.bank.blocks - 1;
    const earliest = Math.max(0, this.bank.blocks - 16);
    let block = last - DECISION_BLOCKS + 1;
    while (block < last && this.pair.fill(this.bank, block) < EDGE_FILL) block++;
    while (block > earliest && this.pair.fill(this.bank, block - 1) >= EDGE_FILL) block--;
    const fill = this.pair.fill(this.bank, block);
    return Math.round((block + 1 - fill) * this.bank.blockLength);
  }

  /** Walks forward from the last valid window to the last block the pair fills, interpolating inside it. */
  private estimateEnd(): number {
    const available = this.bank.blocks - 1;
    let block = this.lastValidBlock;
    while (block > this.lastValidBlock - DECISION_BLOCKS + 1 && this.pair.fill(this.bank, block) < EDGE_FILL) block--;
    while (block < available && this.pair.fill(this.bank, block + 1) >= EDGE_FILL) block++;
    const fill = this.pair.fill(this.bank, block);
    return Math.max(this.onsetSample, Math.round((block + fill) * this.bank.blockLength));
  }
}
