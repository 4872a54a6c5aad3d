/**
 * Power spectra of fixed-size blocks: a Hann window, an in-place radix-2 FFT, |X[k]|² for the
 * `size / 2` bins below Nyquist. Tables and buffers are made once; `accumulate` allocates nothing.
 */
export class PowerSpectrum {
  readonly bins: number;
  private readonly window: Float64Array;
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly order: Uint16Array;
  private readonly re: Float64Array;
  private readonly im: Float64Array;

  constructor(readonly size: number) {
    if (size < 4 || size > 1 << 15 || (size & (size - 1)) !== 0) throw new RangeError('PowerSpectrum: size must be a power of two from 4 to 32768');
    this.bins = size / 2;
    this.window = Float64Array.from({ length: size }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / size));
    this.cos = Float64Array.from({ length: this.bins }, (_, k) => Math.cos((2 * Math.PI * k) / size));
    this.sin = Float64Array.from({ length: this.bins }, (_, k) => Math.sin((2 * Math.PI * k) / size));
    const bits = Math.log2(size);
    this.order = Uint16Array.from({ length: size }, (_, i) => {
      let reversed = 0;
      for (let b = 0; b < bits; b++) reversed |= ((i >> b) & 1) << (bits - 1 - b);
      return reversed;
    });
    this.re = new Float64Array(size);
    this.im = new Float64Array(size);
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
    const { size, re, im } = this;
    for (let i = 0; i < size; i++) {
      const j = this.order[i];
      re[j] = samples[(start + i) % samples.length] * this.window[i];
      im[j] = 0;
    }
    for (let span = 2; span <= size; span <<= 1) {
      const half = span >> 1;
      const step = size / span;
      for (let base = 0; base < size; base += span) {
        for (let k = 0; k < half; k++) {
          const wr = this.cos[k * step];
          const wi = -this.sin[k * step];
          const a = base + k;
          const b = a + half;
          const tr = re[b] * wr - im[b] * wi;
          const ti = re[b] * wi + im[b] * wr;
          re[b] = re[a] - tr;
          im[b] = im[a] - ti;
          re[a] += tr;
          im[a] += ti;
        }
      }
    }
    for (let k = 0; k < this.bins; k++) into[k] += re[k] * re[k] + im[k] * im[k];
  }
}
