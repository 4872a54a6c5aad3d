import { ComfortNoise } from '../../../dsp/index.js';

export const FRAME_SAMPLES = 160;
/** Lost audio is replaced by the last frame, fading, for this many frames (60 ms); then comfort noise. */
const REPEAT_FRAMES = 3;

/**
 * Fills the caller's stream where audio is missing, in 20 ms frames: a lost packet by the last
 * frame repeated at halving gain (speech stays smooth over one or two losses), longer losses and
 * the time a telephone-event covered by comfort noise (a keypress should sound like an open line,
 * never like the speech before it).
 */
export class Concealer {
  private readonly last = new Int16Array(FRAME_SAMPLES);
  private lastLength = 0;
  private repeated = 0;
  private readonly noise = new ComfortNoise({ seed: 0x1b873593 });
  private readonly frame = new Int16Array(FRAME_SAMPLES);

  /** Audio that was played: its last 20 ms (or all of a shorter packet) is what a repeat continues from. */
  played(samples: Int16Array): void {
    const n = Math.min(samples.length, FRAME_SAMPLES);
    this.last.set(samples.subarray(samples.length - n));
    this.lastLength = n;
    this.repeated = 0;
  }

  /** Emits `samples` of fill in frames of at most 20 ms. */
  fill(samples: number, kind: 'loss' | 'event', emit: (frame: Int16Array) => void): void {
    if (kind === 'event') this.repeated = REPEAT_FRAMES;
    for (let left = samples; left > 0; ) {
      const n = Math.min(left, FRAME_SAMPLES);
      const out = this.frame.subarray(0, n);
      if (this.repeated < REPEAT_FRAMES && this.lastLength > 0) this.repeat(out);
      else this.noise.fill(out);
      emit(out);
      left -= n;
    }
  }

  private repeat(out: Int16Array): void {
    this.repeated++;
    const gain = 0.5 ** this.repeated;
    for (let i = 0; i < out.length; i++) out[i] = Math.round(this.last[i % this.lastLength] * gain);
  }
}
