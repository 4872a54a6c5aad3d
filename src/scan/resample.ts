import { SAMPLE_RATE } from '../dsp/index.js';

/**
 * A band-limited decimating resampler to the detector's 8 kHz: a Kaiser-windowed sinc low-pass
 * evaluated as a polyphase filter, so each output sample costs one dot product.
 *
 * The pass band (to 2.1 kHz) holds every DTMF tone with room for Q.24's 3.5% deviation; the cut-off
 * sits at 3.6 kHz and the stop band (60 dB down) starts at 5.1 kHz, whose alias lands at 2.9 kHz,
 * well above the DTMF band. The wide transition keeps the filter short: a scan is a DTMF search,
 * not a listening copy. For rates with an exact ratio of at most MAX_PHASES phases (16, 32, 44.1,
 * 48, 96 kHz, 11.025, 22.05 kHz…) every output sample uses its exact phase; other rates round to the
 * nearest of MAX_PHASES phases, a timing error under 1/MAX_PHASES of an input sample.
 */

const CUTOFF_HZ = 3600;
const TRANSITION_HZ = 3000;
const ATTENUATION_DB = 60;
const MAX_PHASES = 1024;

interface Kernel {
  taps: number;
  phases: number;
  /** phases × taps coefficients: phase p holds h(j − taps/2 + 1 − p/phases) for j < taps. */
  coefficients: Float64Array;
  /** Exact ratio L/M (8000·g/rate·g) when `exact`, else positions advance by rate/8000 in floating point. */
  exact: boolean;
  up: number;
  down: number;
}

const kernels = new Map<number, Kernel>();

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

function kernelFor(rate: number): Kernel {
  const cached = kernels.get(rate);
  if (cached) return cached;
  const beta = 0.1102 * (ATTENUATION_DB - 8.7);
  // Kaiser's length estimate, in input samples, rounded up to a multiple of four (even, so the taps
  // straddle the output position; four, for the unrolled dot product).
  const estimate = Math.ceil((ATTENUATION_DB - 8) / (2.285 * ((2 * Math.PI * TRANSITION_HZ) / rate)));
  const taps = Math.ceil((estimate + 2) / 4) * 4;
  const half = taps / 2;
  const g = gcd(SAMPLE_RATE, rate);
  const exact = SAMPLE_RATE / g <= MAX_PHASES;
  const phases = exact ? SAMPLE_RATE / g : MAX_PHASES;
  const fc = CUTOFF_HZ / rate;
  const coefficients = new Float64Array(phases * taps);
  const i0Beta = besselI0(beta);
  for (let p = 0; p < phases; p++) {
    let sum = 0;
    for (let j = 0; j < taps; j++) {
      const t = j - half + 1 - p / phases;
      const x = 2 * Math.PI * fc * t;
      const sinc = t === 0 ? 2 * fc : Math.sin(x) / (Math.PI * t);
      const r = t / half;
      const window = Math.abs(r) >= 1 ? 0 : besselI0(beta * Math.sqrt(1 - r * r)) / i0Beta;
      coefficients[p * taps + j] = sinc * window;
      sum += sinc * window;
    }
    // Unity gain at DC for every phase, so no phase-dependent ripple.
    for (let j = 0; j < taps; j++) coefficients[p * taps + j] /= sum;
  }
  const kernel = { taps, phases, coefficients, exact, up: SAMPLE_RATE / g, down: rate / g };
  kernels.set(rate, kernel);
  return kernel;
}

/** Input samples each side of an output sample that shape it: how far a resampled edge can spread. */
export function resamplerReach(rate: number): number {
  return rate === SAMPLE_RATE ? 0 : kernelFor(rate).taps / 2;
}

/** Resamples `input` (at `rate` Hz) to 8 kHz; returns `input` itself when it already is. Output sample n is input time n/8000 s. */
export function resampleTo8k(input: Int16Array, rate: number): Int16Array {
  if (rate === SAMPLE_RATE) return input;
  if (!(Number.isInteger(rate) && rate > 0)) throw new RangeError('sample rate must be a positive integer');
  const { taps, phases, coefficients, exact, up, down } = kernelFor(rate);
  const half = taps / 2;
  // Zero padding each side so the dot product never bounds-checks.
  const padded = new Float64Array(input.length + taps + 1);
  for (let i = 0; i < input.length; i++) padded[i + half] = input[i];
  const output = new Int16Array(Math.floor((input.length * SAMPLE_RATE) / rate));
  const step = rate / SAMPLE_RATE;
  // Exact ratios step base and phase by whole numbers: no division, no drift.
  let base = 0;
  let phase = 0;
  for (let n = 0; n < output.length; n++) {
    if (!exact) {
      const position = n * step;
      base = Math.floor(position);
      phase = Math.round((position - base) * phases);
      if (phase === phases) {
        base++;
        phase = 0;
      }
    }
    // Tap j sits at input index base − half + 1 + j, i.e. padded index base + 1 + j. Four partial
    // sums break the dependency chain of one accumulator (taps is a multiple of four).
    const from = base + 1;
    const c = phase * taps;
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    for (let j = 0; j < taps; j += 4) {
      a0 += padded[from + j] * coefficients[c + j];
      a1 += padded[from + j + 1] * coefficients[c + j + 1];
      a2 += padded[from + j + 2] * coefficients[c + j + 2];
      a3 += padded[from + j + 3] * coefficients[c + j + 3];
    }
    const v = Math.round(a0 + a1 + a2 + a3);
    output[n] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    if (exact) {
      phase += down;
      while (phase >= up) {
        phase -= up;
        base++;
      }
    }
  }
  return output;
}
