import { BLOCK, HISTORY_MASK, type DtmfFilterBank } from './filter-bank.js';
import { DTMF_FREQUENCIES } from './dtmf-frequencies.js';
import { SAMPLE_RATE, dbm0ToPower } from './levels.js';

const BINS = 8;
const MAX_WINDOW_BLOCKS = 8;
const NOMINAL_PURITY_SLACK = 0.25;

/** What a window must show to count as a DTMF tone pair. */
export interface ToneCriteria {
  /** Minimum power of each tone, as mean x². */
  minTonePower: number;
  /** Low group louder than high by at most this power ratio. */
  maxNormalTwist: number;
  /** High group louder than low by at most this power ratio. */
  maxReverseTwist: number;
  /** Each winning bin must exceed every other bin of its group by this power ratio. */
  minPeakRatio: number;
  /** The pair's power over the window's mean power. */
  minPairFraction: number;
  /**
   * Per bin, the cosine of the largest residual turn per block (2πΔf·5 ms) that the largest
   * accepted relative frequency offset |Δf| / f allows: a turn φ passes when cos φ reaches it,
   * which needs no arctangent.
   */
  minTurnCos: Float64Array;
}

export function criteria(c: {
  minToneDbm0: number;
  maxNormalTwistDb: number;
  maxReverseTwistDb: number;
  minPeakDb: number;
  minPairFraction: number;
  maxDeviation: number;
}): ToneCriteria {
  return {
    minTonePower: dbm0ToPower(c.minToneDbm0),
    maxNormalTwist: 10 ** (c.maxNormalTwistDb / 10),
    maxReverseTwist: 10 ** (c.maxReverseTwistDb / 10),
    minPeakRatio: 10 ** (c.minPeakDb / 10),
    minPairFraction: c.minPairFraction,
    minTurnCos: Float64Array.from(DTMF_FREQUENCIES, (f) => {
      const limit = (2 * Math.PI * f * c.maxDeviation * BLOCK) / SAMPLE_RATE;
      return limit >= Math.PI ? -Infinity : Math.cos(limit);
    }),
  };
}

/**
 * Judges the window made of the last `blocks` completed blocks of a filter bank.
 * Reused per stream: `analyse` fills the fields and allocates nothing.
 */
export class WindowAnalysis {
  /** Low bin (0–3) and high bin (4–7) of the strongest pair, valid after `analyse`. */
  low = 0;
  high = 4;
  /** Mean tone power per bin over the window (mean x² of the sine it represents). */
  readonly power = new Float64Array(BINS);
  /** Per-block amplitude a full block of the winning tones would have: the fill reference. */
  lowBlockAmplitude = 0;
  highBlockAmplitude = 0;
  /** e^{−jφ}, φ the residual turn per block of the bin last passed to `measureTurn`. */
  private stepRe = 1;
  private stepIm = 0;

  constructor(
    private readonly bank: DtmfFilterBank,
    readonly blocks: number,
  ) {
    if (blocks < 2 || blocks > MAX_WINDOW_BLOCKS) throw new RangeError('window must be 2–8 blocks');
  }

  /** Index 0–15 (low * 4 + high − 4) of the digit the window holds under `rules`, or −1. */
  analyse(rules: ToneCriteria): number {
    const { bank, blocks, power } = this;
    const newest = bank.blocks;
    if (newest < blocks) return -1;
    const first = newest - blocks;
    const samples = blocks * bank.blockLength;
    const energies = bank.energy;
    let energy = 0;
    for (let j = 0; j < blocks; j++) energy += energies[(first + j) & HISTORY_MASK];
    const meanPower = energy / samples;
    if (meanPower < 2 * rules.minTonePower) return -1;

    // Each group is judged as soon as its four powers are known: most speech fails the first.
    const scale = 2 / (samples * samples);
    const low = this.groupWinner(0, first, scale, rules.minPeakRatio);
    if (low < 0) return -1;
    const high = this.groupWinner(4, first, scale, rules.minPeakRatio);
    if (high < 0) return -1;
    this.low = low;
    this.high = high;
    // Cheap purity bound before the trigonometry: off-centre tones lose at most ~6 dB in the fixed-frequency sum.
    if (power[low] + power[high] < NOMINAL_PURITY_SLACK * rules.minPairFraction * meanPower) return -1;
    // Level, twist and purity use the power tracked at the measured frequency: a tone 1.5% off
    // loses up to 4 dB in the fixed-frequency window sum, which would read as false twist.
    if (!this.measureTurn(low, rules)) return -1;
    const pl = this.trackedPower(low);
    if (!this.measureTurn(high, rules)) return -1;
    const ph = this.trackedPower(high);
    if (pl < rules.minTonePower || ph < rules.minTonePower) return -1;
    if (pl > ph * rules.maxNormalTwist || ph > pl * rules.maxReverseTwist) return -1;
    if (pl + ph < rules.minPairFraction * meanPower) return -1;
    // A full block of a sine of power P has Goertzel magnitude B·√(P/2).
    this.lowBlockAmplitude = bank.blockLength * Math.sqrt(pl / 2);
    this.highBlockAmplitude = bank.blockLength * Math.sqrt(ph / 2);
    return low * 4 + high - 4;
  }

  /**
   * Fills the window power of bins from..from+3 and returns the strongest if it exceeds every
   * other bin of its group by `ratio`, else −1.
   */
  private groupWinner(from: number, first: number, scale: number, ratio: number): number {
    const { bank, blocks, power } = this;
    const sumRe = bank.sumRe;
    const sumIm = bank.sumIm;
    // The window's sum is the running sum at its last block less the one just before it (none at the stream's start).
    const last = bank.slot(first + blocks - 1);
    const before = first > 0 ? bank.slot(first - 1) : -1;
    for (let i = from; i < from + 4; i++) {
      const wr = before < 0 ? sumRe[last + i] : sumRe[last + i] - sumRe[before + i];
      const wi = before < 0 ? sumIm[last + i] : sumIm[last + i] - sumIm[before + i];
      power[i] = (wr * wr + wi * wi) * scale;
    }
    let best = from;
    for (let i = from + 1; i < from + 4; i++) if (power[i] > power[best]) best = i;
    for (let i = from; i < from + 4; i++) if (i !== best && power[best] < ratio * power[i]) return -1;
    return best;
  }

  /**
   * Measures the turn of the tone in `bin` between neighbouring blocks. Returns false if it differs
   * from the nominal turn by more than the rules' frequency offset allows; else leaves the measured
   * residual turn per block, undone, as a unit complex number in `stepRe` and `stepIm` for `trackedPower`.
   */
  private measureTurn(bin: number, rules: ToneCriteria): boolean {
    const { bank, blocks } = this;
    const re = bank.re;
    const im = bank.im;
    const first = bank.blocks - blocks;
    let pr = 0;
    let pi = 0;
    for (let j = 0; j + 1 < blocks; j++) {
      const a = bank.slot(first + j) + bin;
      const b = bank.slot(first + j + 1) + bin;
      // y_b · conj(y_a)
      pr += re[b] * re[a] + im[b] * im[a];
      pi += im[b] * re[a] - re[b] * im[a];
    }
    // The history is turned back by the nominal turn: what is left, φ = arg(pr + j·pi), is the tone's own.
    const magnitude = Math.sqrt(pr * pr + pi * pi);
    if (magnitude === 0) {
      // No measurable turn: the nominal frequency.
      this.stepRe = 1;
      this.stepIm = 0;
      return true;
    }
    if (pr < rules.minTurnCos[bin] * magnitude) return false;
    // Tracking undoes that residual turn: e^{−jφ}.
    this.stepRe = pr / magnitude;
    this.stepIm = -pi / magnitude;
    return true;
  }

  /** Window power of the tone in `bin` summed coherently at its measured turn (`measureTurn`). */
  private trackedPower(bin: number): number {
    const { bank, blocks, stepRe, stepIm } = this;
    const re = bank.re;
    const im = bank.im;
    const first = bank.blocks - blocks;
    let cr = 1;
    let ci = 0;
    let wr = 0;
    let wi = 0;
    for (let j = 0; j < blocks; j++) {
      const k = bank.slot(first + j) + bin;
      wr += re[k] * cr - im[k] * ci;
      wi += re[k] * ci + im[k] * cr;
      const nextRe = cr * stepRe - ci * stepIm;
      ci = cr * stepIm + ci * stepRe;
      cr = nextRe;
    }
    const samples = blocks * bank.blockLength;
    return ((wr * wr + wi * wi) * 2) / (samples * samples);
  }
}

/** The winning pair of a valid window, kept to measure how much of later or earlier blocks it fills. */
export class PairReference {
  private low = 0;
  private high = 4;
  private lowAmplitude = 1;
  private highAmplitude = 1;

  capture(analysis: WindowAnalysis): void {
    this.low = analysis.low;
    this.high = analysis.high;
    this.lowAmplitude = analysis.lowBlockAmplitude;
    this.highAmplitude = analysis.highBlockAmplitude;
  }

  /**
   * How much of block `block` (absolute index) the pair fills, 0–1: a block holding the tone for a
   * fraction p of its samples has p times a full block's magnitude.
   */
  fill(bank: DtmfFilterBank, block: number): number {
    const k = bank.slot(block);
    const lr = bank.re[k + this.low];
    const li = bank.im[k + this.low];
    const hr = bank.re[k + this.high];
    const hi = bank.im[k + this.high];
    const l = Math.sqrt(lr * lr + li * li) / this.lowAmplitude;
    const h = Math.sqrt(hr * hr + hi * hi) / this.highAmplitude;
    return Math.min(1, l, h);
  }
}
