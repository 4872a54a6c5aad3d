import { DTMF_FREQUENCIES } from './dtmf-frequencies.js';
import { SAMPLE_RATE } from './levels.js';
import { KERNEL_POOL, TURN_PERIOD, type KernelFeed } from './kernel-pool.js';
import { TelephoneBandEnergy } from './telephone-band.js';
import type { SampleRate } from './types.js';

/**
 * Analysis blocks last 5 ms at every rate: windows are whole numbers of blocks, so decisions come
 * every 5 ms, and a block turns a tone by the same angle (2πf·5 ms) whatever the rate, which keeps
 * every window rule in blocks and dBm0 the same at 8 and 16 kHz.
 */
export const BLOCK_MS = 5;
/** Samples per block at 8 kHz. */
export const BLOCK = blockSamples(SAMPLE_RATE);

export function blockSamples(sampleRate: SampleRate): number {
  return (sampleRate * BLOCK_MS) / 1000;
}
/** Blocks of history kept: enough for the longest window plus the end-of-digit look-back. */
export const HISTORY = 32;
/** HISTORY is a power of two: a block's slot is its index masked. */
export const HISTORY_MASK = HISTORY - 1;
const BINS = 8;

/** Byte offsets in a bank's region of kernel memory: see goertzel-kernel.wat. */
const COEF_AT = 0;
const COS_AT = 32;
const SIN_AT = 64;
const RE_AT = 1024;
const IM_AT = 3072;
const ENERGY_AT = 5120;
const SUM_RE_AT = 6144;
const SUM_IM_AT = 8192;
const STAGE_AT = 10240;
/** Samples a bank's region stages: callers stage a frame at a time, longer inputs in pieces. */
export const STAGE_SAMPLES = 1024;

/**
 * Eight Goertzel filters run in one pass over non-overlapping 5 ms blocks, as a WebAssembly SIMD
 * kernel (single precision within a block: 40 or 80 samples lose nothing a dB rule can see). Each
 * block leaves one complex value per DTMF frequency (and the block's energy) in a short history.
 * A tone's block value turns by ωB per block; the history keeps each value turned back by the
 * nominal ωB·b of its block b, so a nominal tone stands still in it. Then the sum of any run of
 * blocks is, up to a common phase, the DFT over that longer window, without recomputing it; and
 * what a tone still turns between neighbouring blocks measures its frequency offset directly.
 */
export class DtmfFilterBank {
  /** Completed blocks since the start of the stream. */
  blocks = 0;
  /** Samples per block at this bank's rate. */
  readonly blockLength: number;
  /**
   * Real and imaginary parts per (block slot, bin), slot = block % HISTORY, turned back by the
   * block's nominal turn (see above). In the kernel's memory.
   */
  readonly re: Float64Array;
  readonly im: Float64Array;
  /**
   * Per (block slot, bin): the sum of `re` and `im` over every block from the first up to that
   * one, so that the sum over a run of blocks is one difference (see `WindowAnalysis`).
   */
  readonly sumRe: Float64Array;
  readonly sumIm: Float64Array;
  /** Sum of x² per block slot; at 16 kHz, of x within the telephone band (see telephone-band.ts). */
  readonly energy: Float64Array;

  private readonly kernel: KernelFeed;
  /** This bank's region in the kernel's memory. */
  private readonly base: number;
  /** The kernel's input: `stage` copies samples here, `feedStaged` reads them. */
  readonly staged: Int16Array;
  private filled = 0;
  private turn = 0;
  /** At 16 kHz: the block energy is taken within 0–4 kHz, so purity is judged as at 8 kHz. */
  private readonly band: TelephoneBandEnergy | undefined;
  private bandEnergy = 0;

  constructor(readonly sampleRate: SampleRate = SAMPLE_RATE) {
    this.blockLength = blockSamples(sampleRate);
    const { feed, buffer, base } = KERNEL_POOL.acquire(this);
    const coef = new Float32Array(buffer, base + COEF_AT, BINS);
    const cos = new Float32Array(buffer, base + COS_AT, BINS);
    const sin = new Float32Array(buffer, base + SIN_AT, BINS);
    DTMF_FREQUENCIES.forEach((frequency, bin) => {
      const omega = (2 * Math.PI * frequency) / sampleRate;
      coef[bin] = 2 * Math.cos(omega);
      cos[bin] = Math.cos(omega);
      sin[bin] = Math.sin(omega);
    });
    this.re = new Float64Array(buffer, base + RE_AT, HISTORY * BINS);
    this.im = new Float64Array(buffer, base + IM_AT, HISTORY * BINS);
    this.sumRe = new Float64Array(buffer, base + SUM_RE_AT, HISTORY * BINS);
    this.sumIm = new Float64Array(buffer, base + SUM_IM_AT, HISTORY * BINS);
    this.energy = new Float64Array(buffer, base + ENERGY_AT, HISTORY);
    this.staged = new Int16Array(buffer, base + STAGE_AT, STAGE_SAMPLES);
    this.kernel = feed;
    this.base = base;
    this.band = sampleRate === SAMPLE_RATE ? undefined : new TelephoneBandEnergy();
  }

  /** Offset of block `block`'s values (absolute index, still in history) in `re` and `im`. */
  slot(block: number): number {
    return (block & HISTORY_MASK) * BINS;
  }

  energyOf(block: number): number {
    return this.energy[block & HISTORY_MASK];
  }

  /** Copies `samples` (at most STAGE_SAMPLES) to the start of the kernel's input, for `feedStaged`. */
  stage(samples: Int16Array): void {
    this.staged.set(samples);
  }

  /**
   * Runs staged[start..end) through the filters, stopping early right after a block completes.
   * Returns the index reached; `blocks` has grown by one if a block completed.
   */
  feedStaged(start: number, end: number): number {
    const stop = Math.min(end, start + this.blockLength - this.filled);
    this.filled += stop - start;
    const complete = this.filled === this.blockLength;
    const slot = this.blocks & HISTORY_MASK;
    this.kernel(this.base, start, stop - start, complete ? slot : -1, this.turn);
    if (this.band) {
      this.bandEnergy += this.band.sum(this.staged, start, stop);
      if (complete) this.energy[slot] = this.bandEnergy;
    }
    if (complete) {
      this.filled = 0;
      this.bandEnergy = 0;
      this.blocks++;
      // blocks % TURN_PERIOD, kept without a division per block.
      this.turn = this.turn === TURN_PERIOD - 1 ? 0 : this.turn + 1;
    }
    return stop;
  }

  /** `stage` and `feedStaged` for samples[start..end) of any array: for tools and tests, not per frame. */
  feed(samples: Int16Array, start: number, end: number): number {
    const stop = Math.min(end, start + this.blockLength - this.filled);
    this.stage(samples.subarray(start, stop));
    this.feedStaged(0, stop - start);
    return stop;
  }
}
