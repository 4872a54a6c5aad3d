import { SAMPLE_RATE } from '../dsp/index.js';

/**
 * The filters of the scan's band-limited decimating resampler to the detector's 8 kHz (`resample.ts`
 * runs them), in stages: half-band decimators by
 * two while the rate stays at or above 16 kHz (each a short symmetric FIR with every other tap zero,
 * computed only at the samples it keeps), then, when the rate is not yet 8 kHz, a Kaiser-windowed
 * sinc low-pass evaluated as a polyphase filter (16 kHz: one half-band; 44.1 kHz: two, then 11.025 →
 * 8 kHz; 48 kHz: two, then 12 → 8 kHz).
 *
 * The contract of every chain: flat pass band to 2.1 kHz (every DTMF tone with room for Q.24's
 * 3.5% deviation) and 60 dB of attenuation on anything that would alias into 0–2.9 kHz of the 8 kHz
 * output. Aliases may land in 2.9–4 kHz, above the DTMF band: a scan is a DTMF search, not a
 * listening copy, and the wide transitions keep the filters short. For rates with an exact ratio of
 * at most MAX_PHASES phases every output sample uses its exact phase; other rates round to the
 * nearest of MAX_PHASES phases, a timing error under 1/MAX_PHASES of an input sample.
 */

const PASS_HZ = 2100;
/** Upper end of the band kept free of aliases in the 8 kHz output. */
const ALIAS_FREE_HZ = 2900;
const CUTOFF_HZ = 3600;
const TRANSITION_HZ = 3000;
const ATTENUATION_DB = 60;
const MAX_PHASES = 1024;
const BETA = 0.1102 * (ATTENUATION_DB - 8.7);

export interface HalfBand {
  /** Taps at odd offsets ±1, ±3, …, ±(2·pairs.length − 1); the centre tap is ½ and even offsets are zero. */
  pairs: Float64Array;
  /** Input samples each side of an output sample that shape it. */
  reach: number;
}

export interface Kernel {
  taps: number;
  phases: number;
  /** phases × taps coefficients: phase p holds h(j − taps/2 + 1 − p/phases) for j < taps. */
  coefficients: Float64Array;
  /** Exact ratio L/M (8000·g/rate·g) when `exact`, else positions advance by rate/8000 in floating point. */
  exact: boolean;
  up: number;
  down: number;
}

export interface Chain {
  /** Rates at which a half-band stage halves the signal, in order. */
  halvings: { rate: number; stage: HalfBand }[];
  /** The polyphase stage from the rate the halvings reach, absent when that is 8 kHz. */
  polyphase?: { rate: number; kernel: Kernel };
  reach: number;
}

const chains = new Map<number, Chain>();

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Modified Bessel function of the first kind, order 0 (series): the Kaiser window's shape. */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 50; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
    if (term < 1e-12 * sum) break;
  }
  return sum;
}

/** The Kaiser window at t of a window reaching ±half (zero outside). */
function kaiser(t: number, half: number): number {
  const r = t / half;
  return Math.abs(r) >= 1 ? 0 : besselI0(BETA * Math.sqrt(1 - r * r)) / besselI0(BETA);
}

/** Kaiser's length estimate, in samples, for a transition of `width` Hz at `rate`. */
function kaiserLength(width: number, rate: number): number {
  return (ATTENUATION_DB - 8) / (2.285 * ((2 * Math.PI * width) / rate));
}

/**
 * A half-band low-pass at `rate` (cut-off rate/4) whose stop band starts where its aliases would fall
 * into 0–ALIAS_FREE_HZ after halving (rate/2 − ALIAS_FREE_HZ); by the half-band's symmetry its pass
 * band then ends at ALIAS_FREE_HZ, above PASS_HZ. Later stages remove what it lets alias above that.
 */
function halfBandFor(rate: number): HalfBand {
  const stop = rate / 2 - ALIAS_FREE_HZ;
  const pass = rate / 2 - stop;
  if (pass < PASS_HZ) throw new RangeError(`no half-band stage at ${rate} Hz`);
  // Pairs of non-zero taps: one more than Kaiser's estimate (which falls a few dB short at the stop
  // band's edge), rounded up to even for the two-accumulator loop. Reach: the last one's offset; the
  // window ends one sample beyond it.
  const count = 2 * Math.ceil((Math.ceil(kaiserLength(stop - pass, rate) / 4) + 1) / 2);
  const reach = 2 * count - 1;
  const pairs = new Float64Array(count);
  let sum = 0.5;
  for (let i = 0; i < pairs.length; i++) {
    const k = 2 * i + 1;
    pairs[i] = (Math.sin((Math.PI * k) / 2) / (Math.PI * k)) * kaiser(k, reach + 1);
    sum += 2 * pairs[i];
  }
  // Unity gain at DC: the centre tap stays ½ so the zeros stay zeros; the pairs absorb the rest.
  const scale = 0.5 / (sum - 0.5);
  return { pairs: pairs.map((h) => h * scale), reach };
}

function kernelFor(rate: number): Kernel {
  // Rounded up to a multiple of four (even, so the taps straddle the output position; four, for the
  // unrolled dot product).
  const taps = Math.ceil((Math.ceil(kaiserLength(TRANSITION_HZ, rate)) + 2) / 4) * 4;
  const half = taps / 2;
  const g = gcd(SAMPLE_RATE, rate);
  const exact = SAMPLE_RATE / g <= MAX_PHASES;
  const phases = exact ? SAMPLE_RATE / g : MAX_PHASES;
  const fc = CUTOFF_HZ / rate;
  const coefficients = new Float64Array(phases * taps);
  const row = new Float64Array(taps);
  for (let p = 0; p < phases; p++) {
    let sum = 0;
    for (let j = 0; j < taps; j++) {
      const t = j - half + 1 - p / phases;
      const sinc = t === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * t) / (Math.PI * t);
      row[j] = sinc * kaiser(t, half);
      sum += row[j];
    }
    // Unity gain at DC for every phase, so no phase-dependent ripple.
    for (let j = 0; j < taps; j++) coefficients[p * taps + j] = row[j] / sum;
  }
  return { taps, phases, coefficients, exact, up: SAMPLE_RATE / g, down: rate / g };
}

export function chainFor(rate: number): Chain {
  const cached = chains.get(rate);
  if (cached) return cached;
  const halvings: Chain['halvings'] = [];
  let reach = 0;
  let at = rate;
  while (at % 2 === 0 && at / 2 >= SAMPLE_RATE) {
    const stage = halfBandFor(at);
    reach += stage.reach * (rate / at);
    halvings.push({ rate: at, stage });
    at /= 2;
  }
  let polyphase: Chain['polyphase'];
  if (at !== SAMPLE_RATE) {
    polyphase = { rate: at, kernel: kernelFor(at) };
    reach += (polyphase.kernel.taps / 2) * (rate / at);
  }
  const chain = { halvings, polyphase, reach: Math.ceil(reach) };
  chains.set(rate, chain);
  return chain;
}

/** Input samples each side of an output sample that shape it: how far a resampled edge can spread. */
export function resamplerReach(rate: number): number {
  return rate === SAMPLE_RATE ? 0 : chainFor(rate).reach;
}

