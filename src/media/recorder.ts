import { encode, type SampleRate } from '../dsp/index.js';
import { wavHeader, type WavEncoding } from './wav.js';

/** Where interleaved recording bytes go (the encrypted writer, or a plain sink in tests). */
export interface RecordingSink {
  /** Must copy or consume `data` before returning: the recorder reuses the buffer. */
  write(data: Uint8Array): void;
  close(): Promise<void> | void;
}

/** Per-channel buffer: if one leg stalls longer than this, its channel is written as silence. */
const CHANNEL_SECONDS = 2;
/** Both channels are interleaved and written out every 20 ms frame, spreading the work evenly over time. */
const FLUSH_MS = 20;

/**
 * The call as a stereo WAV at the call's rate (8 or 16 kHz; both legs at that rate): masked
 * caller audio left, agent audio right, aligned by arrival (both legs stream in real time). A leg
 * that is silent or absent reads as silence. Samples are 16-bit PCM, or G.711 for a call whose
 * caller streams G.711: the codec the call is carried in, so nothing heard is lost, in half the
 * bytes to encrypt and write.
 */
export class StereoRecorder {
  private readonly channelSamples: number;
  private readonly flushSamples: number;
  private readonly left: Int16Array;
  private readonly right: Int16Array;
  private leftFill = 0;
  private rightFill = 0;
  private readonly interleaved: Int16Array;
  /** G.711 recordings: `interleaved` encoded, one byte a sample. */
  private readonly encoded: Uint8Array;
  /** What the last flush wrote and, for G.711, the samples it encoded: views remade only when the length changes (nearly every flush is one frame). */
  private written: Uint8Array = new Uint8Array(0);
  private toEncode: Int16Array = new Int16Array(0);
  private closed = false;

  constructor(
    private readonly sink: RecordingSink,
    readonly sampleRate: SampleRate = 8000,
    readonly encoding: WavEncoding = 'l16',
  ) {
    this.channelSamples = CHANNEL_SECONDS * sampleRate;
    this.flushSamples = (FLUSH_MS * sampleRate) / 1000;
    this.left = new Int16Array(this.channelSamples);
    this.right = new Int16Array(this.channelSamples);
    this.interleaved = new Int16Array(this.channelSamples * 2);
    this.encoded = new Uint8Array(encoding === 'l16' ? 0 : this.channelSamples * 2);
    sink.write(wavHeader(sampleRate, 2, 0xffffffff - 36, encoding));
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
      if (fill === this.channelSamples) this.flush(this.channelSamples);
      const at = caller ? this.leftFill : this.rightFill;
      const n = Math.min(this.channelSamples - at, samples.length - offset);
      const channel = caller ? this.left : this.right;
      channel.set(offset === 0 && n === samples.length ? samples : samples.subarray(offset, offset + n), at);
      if (caller) this.leftFill += n;
      else this.rightFill += n;
      offset += n;
    }
    if (Math.min(this.leftFill, this.rightFill) >= this.flushSamples) this.flush(Math.min(this.leftFill, this.rightFill));
  }

  /** Writes the first `n` samples of both channels (missing samples are silence) and keeps the rest. */
  private flush(n: number): void {
    if (n === 0) return;
    const { interleaved: out, left, right } = this;
    // Both channels hold the first `both` samples (every flush but a stall's or the last); past them, the short one is silence.
    const both = Math.min(n, this.leftFill, this.rightFill);
    for (let i = 0; i < both; i++) {
      out[2 * i] = left[i];
      out[2 * i + 1] = right[i];
    }
    for (let i = both; i < n; i++) {
      out[2 * i] = i < this.leftFill ? left[i] : 0;
      out[2 * i + 1] = i < this.rightFill ? right[i] : 0;
    }
    this.sink.write(this.encoding === 'l16' ? this.pcmBytes(n) : this.g711Bytes(n));
    this.left.copyWithin(0, Math.min(n, this.leftFill), this.leftFill);
    this.right.copyWithin(0, Math.min(n, this.rightFill), this.rightFill);
    this.leftFill = Math.max(0, this.leftFill - n);
    this.rightFill = Math.max(0, this.rightFill - n);
  }

  private pcmBytes(n: number): Uint8Array {
    if (this.written.length !== n * 4) this.written = new Uint8Array(this.interleaved.buffer, 0, n * 4);
    return this.written;
  }

  private g711Bytes(n: number): Uint8Array {
    if (this.written.length !== n * 2) {
      this.written = this.encoded.subarray(0, n * 2);
      this.toEncode = this.interleaved.subarray(0, n * 2);
    }
    encode(this.encoding, this.toEncode, this.written);
    return this.written;
  }
}
