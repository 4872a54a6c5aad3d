import { SAMPLE_RATE } from '../dsp/index.js';
import { chainFor, type HalfBand, type Kernel } from './filters.js';
import { unitFrames } from './gate.js';

/**
 * Runs a channel through its filter chain (`filters.ts`) as a stream of short blocks (one gate unit
 * each): every step keeps only its filter's history in a small buffer, so the working set stays in
 * cache, nothing the size of the recording is allocated between steps, and no step bounds-checks
 * (the zeros before the first sample are the initial history; those after the last are appended
 * when the input ends). Blocks the silence gate (`gate.ts`) marks are fed as zeros; once every
 * step's history is zero too, the steps only count the zero outputs such blocks make, which is exact.
 */

/** A step's input: its filter's history, then samples not yet used, in `data[0..filled)`. */
class Pending {
  readonly data: Float64Array;
  filled: number;

  constructor(capacity: number, history: number) {
    this.data = new Float64Array(capacity);
    // The zeros before the first sample.
    this.filled = history;
  }

  /** Drops `count` samples from the front. */
  drop(count: number): void {
    this.data.copyWithin(0, count, this.filled);
    this.filled -= count;
  }

  /** Appends `count` zeros. */
  pad(count: number): void {
    this.data.fill(0, this.filled, this.filled + count);
    this.filled += count;
  }

  isZero(): boolean {
    for (let i = 0; i < this.filled; i++) if (this.data[i] !== 0) return false;
    return true;
  }

  /** Zeros the buffer's content: samples were counted as zeros without being written. */
  settleZeros(): void {
    this.data.fill(0, 0, this.filled);
  }
}

class HalfBandStep {
  readonly input: Pending;
  /** The stage's pairs padded with zeros to whole groups of four, and the reach that covers them. */
  readonly pairs: Float64Array;
  readonly reach: number;
  made = 0;

  constructor(
    stage: HalfBand,
    block: number,
    /** Outputs in all: one per even input index. */
    readonly total: number,
  ) {
    this.pairs = new Float64Array(Math.ceil(stage.pairs.length / 4) * 4);
    this.pairs.set(stage.pairs);
    this.reach = 2 * this.pairs.length - 1;
    // Buffer index `reach` is the first output's centre.
    this.input = new Pending(block + 2 * this.reach + 4, this.reach);
  }
}

/**
 * Every output whose taps are in `step.input`, appended to `to`; when not `make`, the input is all
 * zeros and the outputs are only counted. Returns their count.
 */
function halve(step: HalfBandStep, to: Pending, make: boolean): number {
  const { pairs, reach } = step;
  // Centres c = reach, reach + 2, … while c + reach < filled, and no more than the total.
  const n = Math.min(Math.max(0, (step.input.filled - 2 * reach + 1) >> 1), step.total - step.made);
  if (make) {
    for (let g = 0; g < pairs.length; g += 4) addPairGroup(step.input.data, reach, n, to.data, to.filled, pairs, g);
    to.filled += n;
  }
  step.made += n;
  step.input.drop(2 * n);
  return n;
}

/**
 * Adds the share of pairs g … g + 3 to the n outputs from out[o] (the first group also sets the
 * centre tap's). The eight samples a group reads around one centre are held in locals that slide by
 * two inputs per output, so each output loads two new samples instead of eight.
 */
function addPairGroup(x: Float64Array, reach: number, n: number, out: Float64Array, o: number, pairs: Float64Array, g: number): void {
  const h0 = pairs[g];
  const h1 = pairs[g + 1];
  const h2 = pairs[g + 2];
  const h3 = pairs[g + 3];
  // Pair g + i sits at offsets ±(k + 2i) from the centre.
  const k = 2 * g + 1;
  const first = g === 0;
  let c = reach;
  let below1 = x[c - k - 2];
  let below2 = x[c - k - 4];
  let below3 = x[c - k - 6];
  let above0 = x[c + k];
  let above1 = x[c + k + 2];
  let above2 = x[c + k + 4];
  for (let m = 0; m < n; m++, c += 2) {
    const below0 = x[c - k];
    const above3 = x[c + k + 6];
    const sum = h0 * (below0 + above0) + h1 * (below1 + above1) + h2 * (below2 + above2) + h3 * (below3 + above3);
    out[o + m] = (first ? 0.5 * x[c] : out[o + m]) + sum;
    below3 = below2;
    below2 = below1;
    below1 = below0;
    above0 = above1;
    above1 = above2;
    above2 = above3;
  }
}

class PolyphaseStep {
  readonly input: Pending;
  readonly step: number;
  made = 0;
  /** Buffer index one before the next output's first tap, and that output's phase. */
  base = 0;
  phase = 0;
  /** Samples dropped from the front of the buffer so far. */
  dropped = 0;
  /** For exact ratios, per phase: the next output's phase and how far its base moves. */
  readonly nextPhase: Int32Array;
  readonly advance: Int32Array;

  constructor(
    readonly kernel: Kernel,
    rate: number,
    block: number,
    readonly total: number,
  ) {
    const { taps, up, down, exact } = kernel;
    this.step = rate / SAMPLE_RATE;
    // Tap j of output n reads input index base − taps/2 + 1 + j: the history is taps/2 zeros.
    this.input = new Pending(block + 2 * (taps + Math.ceil(this.step) + 2), taps / 2);
    this.nextPhase = new Int32Array(exact ? up : 0);
    this.advance = new Int32Array(exact ? up : 0);
    for (let p = 0; p < this.nextPhase.length; p++) {
      this.nextPhase[p] = (p + down) % up;
      this.advance[p] = Math.floor((p + down) / up);
    }
  }
}

/**
 * Every output whose taps are in `step.input`, rounded straight into `output`; when not `make`, the
 * input is all zeros and the outputs are only counted (`output` holds zeros there).
 */
function interpolate(step: PolyphaseStep, output: Output, make: boolean): void {
  const { taps, phases, coefficients, exact } = step.kernel;
  const { total, advance, nextPhase, dropped } = step;
  const x = step.input.data;
  const filled = step.input.filled;
  const out = output.samples;
  let { base, phase, made } = step;
  while (made < total) {
    if (!exact) {
      const position = made * step.step;
      base = Math.floor(position);
      phase = Math.round((position - base) * phases);
      if (phase === phases) {
        base++;
        phase = 0;
      }
      base -= dropped;
    }
    // Ready when its last tap (buffer index base + taps) is in the buffer.
    if (base + taps >= filled) break;
    if (make) {
      // Four partial sums break the dependency chain of one accumulator (taps is a multiple of four).
      const from = base + 1;
      const c = phase * taps;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let j = 0; j < taps; j += 4) {
        a0 += x[from + j] * coefficients[c + j];
        a1 += x[from + j + 1] * coefficients[c + j + 1];
        a2 += x[from + j + 2] * coefficients[c + j + 2];
        a3 += x[from + j + 3] * coefficients[c + j + 3];
      }
      // Output n of the polyphase step is output sample n: the totals are the same.
      out[made] = toSample(a0 + a1 + a2 + a3);
    }
    made++;
    if (exact) {
      base += advance[phase];
      phase = nextPhase[phase];
    }
  }
  output.at = made;
  const drop = Math.min(base + 1, filled);
  step.input.drop(drop);
  step.dropped += drop;
  step.base = base - drop;
  step.phase = phase;
  step.made = made;
}

/** `v` rounded to a 16-bit sample, clipped. */
function toSample(v: number): number {
  return v >= 32767 ? 32767 : v <= -32768 ? -32768 : Math.round(v);
}

/** The 8 kHz result. */
class Output {
  readonly samples: Int16Array;
  /** Samples made so far. */
  at = 0;

  constructor(length: number) {
    this.samples = new Int16Array(length);
  }

  /** Rounds what `from` holds into the samples (up to their length) and empties it. */
  take(from: Pending): void {
    const { samples, at } = this;
    const data = from.data;
    const n = Math.min(from.filled, samples.length - at);
    for (let i = 0; i < n; i++) samples[at + i] = toSample(data[i]);
    this.at = at + n;
    from.filled = 0;
  }

  /** Leaves the next `count` samples zero. */
  skip(count: number): void {
    this.at = Math.min(this.samples.length, this.at + count);
  }
}

/** A channel's steps: the half-bands in order, then the polyphase step if any. */
class ChannelChain {
  readonly halves: HalfBandStep[] = [];
  readonly last?: PolyphaseStep;
  /** The last half-band's outputs, when no polyphase step follows. */
  readonly result: Pending;
  readonly output: Output;
  readonly input: Pending;
  /** Every step's history is zero (the input has been silent for longer than the chain's reach). */
  private quiet = false;

  constructor(rate: number, frames: number, block: number) {
    const { halvings, polyphase } = chainFor(rate);
    this.output = new Output(Math.floor((frames * SAMPLE_RATE) / rate));
    let length = frames;
    for (const { stage } of halvings) {
      length = Math.ceil(length / 2);
      this.halves.push(new HalfBandStep(stage, block, length));
    }
    if (polyphase) this.last = new PolyphaseStep(polyphase.kernel, polyphase.rate, block, this.output.samples.length);
    this.result = new Pending(block + 8, 0);
    this.input = this.halves[0]?.input ?? this.last!.input;
  }

  /** Runs what the first step's input holds through every step. */
  run(): void {
    this.quiet = false;
    this.advance(false);
  }

  /** Runs `count` zeros through: filtered (`block` at a time) until every step's history is zero, then only counted. */
  silence(count: number, block: number): void {
    while (!this.quiet && count > 0) {
      const n = Math.min(count, block);
      this.input.pad(n);
      this.advance(false);
      this.quiet = this.steps().every((input) => input.isZero());
      count -= n;
    }
    const { halves, last, output } = this;
    let n = count;
    for (const step of halves) {
      step.input.filled += n;
      n = halve(step, this.result, false);
      step.input.settleZeros();
    }
    if (last) {
      last.input.filled += n;
      interpolate(last, output, false);
      last.input.settleZeros();
    } else output.skip(n);
  }

  /** The input has ended: each step's input gets the zeros that follow the signal, and every remaining output is made. */
  end(): void {
    this.advance(true);
  }

  private steps(): Pending[] {
    return [...this.halves.map((s) => s.input), ...(this.last ? [this.last.input] : [])];
  }

  private advance(end: boolean): void {
    const { halves, last, result, output } = this;
    for (let i = 0; i < halves.length; i++) {
      const step = halves[i];
      if (end) step.input.pad(step.reach + 1);
      halve(step, halves[i + 1]?.input ?? last?.input ?? result, true);
    }
    if (last) {
      interpolate(last, output, true);
      while (end && last.made < last.total) {
        last.input.pad(last.input.data.length - last.input.filled);
        interpolate(last, output, true);
      }
    } else output.take(result);
  }
}

/** Where a channel's samples sit in a source: frame i at index i · channels + channel. */
export interface ChannelLayout {
  channels: number;
  channel: number;
}

const MONO: ChannelLayout = { channels: 1, channel: 0 };

/** One channel of `source` as its own array. */
export function channelOf(source: Int16Array, { channels, channel }: ChannelLayout): Int16Array {
  if (channels === 1) return source;
  const frames = Math.floor(source.length / channels);
  const out = new Int16Array(frames);
  for (let i = 0, k = channel; i < frames; i++, k += channels) out[i] = source[k];
  return out;
}

/**
 * Resamples one channel of `source` (at `rate` Hz; by default the whole of a mono source) to 8 kHz,
 * passing silence for the gate units `silent` marks. Output sample n is input time n/8000 s. A
 * source already at 8 kHz is returned as it is (its channel, for a multi-channel one), ungated.
 */
export function resampleTo8k(source: Int16Array, rate: number, layout: ChannelLayout = MONO, silent?: Uint8Array): Int16Array {
  if (rate === SAMPLE_RATE) return channelOf(source, layout);
  if (!(Number.isInteger(rate) && rate > 0)) throw new RangeError('sample rate must be a positive integer');
  const { channels, channel } = layout;
  const frames = Math.floor(source.length / channels);
  const block = unitFrames(rate);
  const chain = new ChannelChain(rate, frames, Math.max(block, 64));
  const x = chain.input.data;
  for (let u = 0, at = 0; at < frames; u++, at += block) {
    if (silent?.[u]) {
      // The whole run of silent units at once.
      let v = u;
      while (silent[v + 1]) v++;
      const end = Math.min(frames, (v + 1) * block);
      chain.silence(end - at, block);
      at = end - block;
      u = v;
      continue;
    }
    const end = Math.min(frames, at + block);
    let f = chain.input.filled;
    for (let i = at, k = at * channels + channel; i < end; i++, k += channels) x[f++] = source[k];
    chain.input.filled = f;
    chain.run();
  }
  chain.end();
  return chain.output.samples;
}
