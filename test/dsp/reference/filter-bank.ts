/**
 * Test and benchmark reference: the filter bank as it was before the WebAssembly kernel (git main
 * before this change), tuned JavaScript in double precision, kept so that bench:dsp can time the kernel
 * against it in the same run. Its block values are not turned back.
 */
import { DTMF_FREQUENCIES } from '../../../src/dsp/dtmf-frequencies.js';
import { HISTORY, HISTORY_MASK, blockSamples } from '../../../src/dsp/filter-bank.js';
import { SAMPLE_RATE } from '../../../src/dsp/levels.js';
import { TelephoneBandEnergy } from '../../../src/dsp/telephone-band.js';
import type { SampleRate } from '../../../src/dsp/types.js';

const BINS = 8;

/** Goertzel constants per rate: 2cos ω, cos ω and sin ω for each DTMF frequency. */
interface Coefficients {
  coef: Float64Array;
  cos: Float64Array;
  sin: Float64Array;
}

function coefficients(sampleRate: SampleRate): Coefficients {
  const omega = DTMF_FREQUENCIES.map((f) => (2 * Math.PI * f) / sampleRate);
  return {
    coef: Float64Array.from(omega, (w) => 2 * Math.cos(w)),
    cos: Float64Array.from(omega, (w) => Math.cos(w)),
    sin: Float64Array.from(omega, (w) => Math.sin(w)),
  };
}

const COEFFICIENTS: Record<SampleRate, Coefficients> = { 8000: coefficients(8000), 16000: coefficients(16000) };

/**
 * Eight Goertzel filters run interleaved in one pass over non-overlapping 5 ms blocks. Each block
 * leaves one complex value per DTMF frequency (and the block's energy) in a short history, from
 * which any window of whole blocks is formed coherently: a block's value turns by ωB per block, so
 * undoing that rotation and summing gives the DFT over the longer window without recomputing it.
 * The residual turn between neighbouring blocks measures the tone's frequency offset directly.
 */
export class ReferenceFilterBank {
  /** Completed blocks since the start of the stream. */
  blocks = 0;
  /** Samples per block at this bank's rate. */
  readonly blockLength: number;
  /** Real and imaginary parts per (block slot, bin): slot = block % HISTORY. */
  readonly re = new Float64Array(HISTORY * BINS);
  readonly im = new Float64Array(HISTORY * BINS);
  /** Sum of x² per block slot; at 16 kHz, of x within the telephone band (see telephone-band.ts). */
  readonly energy = new Float64Array(HISTORY);

  private readonly s1 = new Float64Array(BINS);
  private readonly s2 = new Float64Array(BINS);
  private filled = 0;
  private blockEnergy = 0;
  private readonly constants: Coefficients;
  /** At 16 kHz: the block energy is taken within 0–4 kHz, so purity is judged as at 8 kHz. */
  private readonly band: TelephoneBandEnergy | undefined;

  constructor(readonly sampleRate: SampleRate = SAMPLE_RATE) {
    this.blockLength = blockSamples(sampleRate);
    this.constants = COEFFICIENTS[sampleRate];
    this.band = sampleRate === SAMPLE_RATE ? undefined : new TelephoneBandEnergy();
  }

  /** Offset of block `block`'s values (absolute index, still in history) in `re` and `im`. */
  slot(block: number): number {
    return (block & HISTORY_MASK) * BINS;
  }

  energyOf(block: number): number {
    return this.energy[block & HISTORY_MASK];
  }

  /**
   * Runs samples[start..end) through the filters, stopping early right after a block completes.
   * Returns the index reached; `blocks` has grown by one if a block completed.
   */
  feed(samples: Int16Array, start: number, end: number): number {
    const block = this.blockLength;
    const stop = Math.min(end, start + block - this.filled);
    const c = this.constants.coef;
    const c0 = c[0], c1 = c[1], c2 = c[2], c3 = c[3], c4 = c[4], c5 = c[5], c6 = c[6], c7 = c[7];
    const s1 = this.s1;
    const s2 = this.s2;
    let a0 = s1[0], a1 = s1[1], a2 = s1[2], a3 = s1[3], a4 = s1[4], a5 = s1[5], a6 = s1[6], a7 = s1[7];
    let b0 = s2[0], b1 = s2[1], b2 = s2[2], b3 = s2[3], b4 = s2[4], b5 = s2[5], b6 = s2[6], b7 = s2[7];
    let e = this.blockEnergy;
    let t: number;
    for (let n = start; n < stop; n++) {
      const x = samples[n];
      e += x * x;
      t = x + c0 * a0 - b0; b0 = a0; a0 = t;
      t = x + c1 * a1 - b1; b1 = a1; a1 = t;
      t = x + c2 * a2 - b2; b2 = a2; a2 = t;
      t = x + c3 * a3 - b3; b3 = a3; a3 = t;
      t = x + c4 * a4 - b4; b4 = a4; a4 = t;
      t = x + c5 * a5 - b5; b5 = a5; a5 = t;
      t = x + c6 * a6 - b6; b6 = a6; a6 = t;
      t = x + c7 * a7 - b7; b7 = a7; a7 = t;
    }
    s1[0] = a0; s1[1] = a1; s1[2] = a2; s1[3] = a3; s1[4] = a4; s1[5] = a5; s1[6] = a6; s1[7] = a7;
    s2[0] = b0; s2[1] = b1; s2[2] = b2; s2[3] = b3; s2[4] = b4; s2[5] = b5; s2[6] = b6; s2[7] = b7;
    this.blockEnergy = this.band ? this.blockEnergy + this.band.sum(samples, start, stop) : e;
    this.filled += stop - start;
    if (this.filled === block) this.completeBlock();
    return stop;
  }

  private completeBlock(): void {
    const slot = (this.blocks & HISTORY_MASK) * BINS;
    const { s1, s2 } = this;
    const { cos, sin } = this.constants;
    for (let i = 0; i < BINS; i++) {
      // y = s1 − e^{−jω}·s2: the block's DFT at ω, up to a phase that is the same for every block.
      this.re[slot + i] = s1[i] - s2[i] * cos[i];
      this.im[slot + i] = s2[i] * sin[i];
      s1[i] = 0;
      s2[i] = 0;
    }
    this.energy[this.blocks & HISTORY_MASK] = this.blockEnergy;
    this.blockEnergy = 0;
    this.filled = 0;
    this.blocks++;
  }
}
