/**
 * Power spectra of fixed-size blocks: a Hann window, |X[k]|² for the `size / 2` bins below
 * Nyquist. The real block is transformed as a complex one of half the size (even samples as real
 * parts, odd as imaginary), then split into the real block's spectrum: half the butterflies of a
 * complex transform of the whole block. Tables and buffers are made once; `accumulate` allocates nothing.
 */
/** The window, twiddles and bit-reversal order of one size, and the transform's scratch. */
interface Tables {
  window: Float64Array;
  /** cos and sin of 2πk/size for k < size/2: the split's twiddles; every other one is the half-size FFT's. */
  cos: Float64Array;
  sin: Float64Array;
  order: Uint16Array;
  re: Float64Array;
  im: Float64Array;
}

/**
 * One set per size, shared by every instance: a call's observer then touches no tables of its own,
 * which kept a few kilobytes per call out of the cache the media path shares between calls. The
 * scratch can be shared too, as `accumulate` runs to completion.
 */
const TABLES = new Map<number, Tables>();

function tablesFor(size: number): Tables {
  const known = TABLES.get(size);
  if (known) return known;
  const half = size / 2;
  const bits = Math.log2(half);
  const tables: Tables = {
    window: Float64Array.from({ length: size }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / size)),
    cos: Float64Array.from({ length: half }, (_, k) => Math.cos((2 * Math.PI * k) / size)),
    sin: Float64Array.from({ length: half }, (_, k) => Math.sin((2 * Math.PI * k) / size)),
    order: Uint16Array.from({ length: half }, (_, i) => {
      let reversed = 0;
      for (let b = 0; b < bits; b++) reversed |= ((i >> b) & 1) << (bits - 1 - b);
      return reversed;
    }),
    re: new Float64Array(half),
    im: new Float64Array(half),
  };
  TABLES.set(size, tables);
  return tables;
}

export class PowerSpectrum {
  readonly bins: number;
  private readonly tables: Tables;

  constructor(readonly size: number) {
    if (size < 4 || size > 1 << 15 || (size & (size - 1)) !== 0) throw new RangeError('PowerSpectrum: size must be a power of two from 4 to 32768');
    this.bins = size / 2;
    this.tables = tablesFor(size);
  }

  /** The power a full-scale sine puts in its bin (amplitude × size / 4 through the Hann window, squared). */
  fullScalePower(amplitude: number): number {
    return ((amplitude * this.size) / 4) ** 2;
  }

  /**
   * Adds the power spectrum of `size` samples read from the ring `samples` (oldest at `start`,
   * wrapping at its end) to `into[0 … bins)`.
   */
  accumulate(samples: ArrayLike<number>, start: number, into: Float64Array): void {
    const { re, im, window, order, cos, sin } = this.tables;
    const half = this.bins;
    const length = samples.length;
    let at = start % length;
    for (let n = 0; n < half; n++) {
      const j = order[n];
      re[j] = samples[at] * window[2 * n];
      at = at + 1 === length ? 0 : at + 1;
      im[j] = samples[at] * window[2 * n + 1];
      at = at + 1 === length ? 0 : at + 1;
    }
    for (let span = 2; span <= half; span <<= 1) {
      const step = span >> 1;
      // The half-size transform's twiddle e^{−2πik/span} is the table's entry 2k·(half/span).
      const stride = (2 * half) / span;
      for (let base = 0; base < half; base += span) {
        for (let k = 0; k < step; k++) {
          const wr = cos[k * stride];
          const wi = -sin[k * stride];
          const a = base + k;
          const b = a + step;
          const tr = re[b] * wr - im[b] * wi;
          const ti = re[b] * wi + im[b] * wr;
          re[b] = re[a] - tr;
          im[b] = im[a] - ti;
          re[a] += tr;
          im[a] += ti;
        }
      }
    }
    // X[k] = E[k] + e^{−2πik/size}·O[k], with E and O the even and odd samples' spectra read off Z[k] and conj(Z[half − k]).
    for (let k = 0; k < half; k++) {
      const m = k === 0 ? 0 : half - k;
      const er = (re[k] + re[m]) / 2;
      const ei = (im[k] - im[m]) / 2;
      const or = (im[k] + im[m]) / 2;
      const oi = (re[m] - re[k]) / 2;
      const c = cos[k];
      const s = sin[k];
      const xr = er + c * or + s * oi;
      const xi = ei + c * oi - s * or;
      into[k] += xr * xr + xi * xi;
    }
  }
}
