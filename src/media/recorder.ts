import { wavHeader } from './wav.js';

/** Where interleaved recording bytes go (the encrypted writer, or a plain sink in tests). */
export interface RecordingSink {
  /** Must copy or consume `data` before returning: the recorder reuses the buffer. */
  write(data: Uint8Array): void;
  close(): Promise<void> | void;
}

const SAMPLE_RATE = 8000;
/** Per-channel buffer: if one leg stalls longer than this, its channel is written as silence. */
const CHANNEL_SAMPLES = 2 * SAMPLE_RATE;
/** Both channels are interleaved and written out every 20 ms frame, spreading the work evenly over time. */
const FLUSH_SAMPLES = 160;

/**
 * The call as a stereo 8 kHz 16-bit WAV: masked caller audio left, agent audio right, aligned
 * by arrival (both legs stream in real time). A leg that is silent or absent reads as silence.
 */
export class StereoRecorder {
  private readonly left = new Int16Array(CHANNEL_SAMPLES);
  private readonly right = new Int16Array(CHANNEL_SAMPLES);
  private leftFill = 0;
  private rightFill = 0;
  private readonly interleaved = new Int16Array(CHANNEL_SAMPLES * 2);
  /** The bytes of `interleaved` last written, remade only when the length changes (nearly every flush is one frame). */
  private written = new Uint8Array(0);
  private closed = false;

  constructor(private readonly sink: RecordingSink) {
    sink.write(wavHeader(SAMPLE_RATE, 2, 0xffffffff - 36));
  }

  /** Masked caller audio (what the agent hears from the caller). */
  writeCaller(samples: Int16Array): void {
    this.append(samples, true);
  }

  writeAgent(samples: Int16Array): void {
    this.append(samples, false);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush(Math.max(this.leftFill, this.rightFill));
    this.closed = true;
    await this.sink.close();
  }

  private append(samples: Int16Array, caller: boolean): void {
    if (this.closed) return;
    let offset = 0;
    while (offset < samples.length) {
      const fill = caller ? this.leftFill : this.rightFill;
      if (fill === CHANNEL_SAMPLES) this.flush(CHANNEL_SAMPLES);
      const at = caller ? this.leftFill : this.rightFill;
      const n = Math.min(CHANNEL_SAMPLES - at, samples.length - offset);
      const channel = caller ? this.left : this.right;
      channel.set(offset === 0 && n === samples.length ? samples : samples.subarray(offset, offset + n), at);
      if (caller) this.leftFill += n;
      else this.rightFill += n;
      offset += n;
    }
    if (Math.min(this.leftFill, this.rightFill) >= FLUSH_SAMPLES) this.flush(Math.min(this.leftFill, this.rightFill));
  }

  /** Writes the first `n` samples of both channels (missing samples are silence) and keeps the rest. */
  private flush(n: number): void {
    if (n === 0) return;
    const out = this.interleaved;
    for (let i = 0; i < n; i++) {
      out[2 * i] = i < this.leftFill ? this.left[i] : 0;
      out[2 * i + 1] = i < this.rightFill ? this.right[i] : 0;
    }
    if (this.written.length !== n * 4) this.written = new Uint8Array(out.buffer, 0, n * 4);
    this.sink.write(this.written);
    this.left.copyWithin(0, Math.min(n, this.leftFill), this.leftFill);
    this.right.copyWithin(0, Math.min(n, this.rightFill), this.rightFill);
    this.leftFill = Math.max(0, this.leftFill - n);
    this.rightFill = Math.max(0, this.rightFill - n);
  }
}
