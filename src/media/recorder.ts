import { encode, type SampleRate } from '../dsp/index.js';
import type { EncodedAudio } from './types.js';
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
/** One channel's or the interleaved stream's samples: 16-bit, or G.711 codes. */
type Units = Int16Array | Uint8Array;

export class StereoRecorder {
  private readonly channelSamples: number;
  private readonly flushSamples: number;
  private readonly left: Units;
  private readonly right: Units;
  private leftFill = 0;
  private rightFill = 0;
  private readonly interleaved: Units;
  /** The unit of silence: 0, or the G.711 code of 0 (a short leg is padded with it). */
  private readonly silence: number;
  /** G.711: a frame offered without its codec bytes is encoded here first. */
  private readonly scratch: Uint8Array;
  private scratchView: Uint8Array = new Uint8Array(0);
  /** The bytes the last flush wrote, remade only when the length changes (nearly every flush is one frame). */
  private written: Uint8Array = new Uint8Array(0);
  private closed = false;

  constructor(
    private readonly sink: RecordingSink,
    readonly sampleRate: SampleRate = 8000,
    readonly encoding: WavEncoding = 'l16',
  ) {
    this.channelSamples = CHANNEL_SECONDS * sampleRate;
    this.flushSamples = (FLUSH_MS * sampleRate) / 1000;
    const UnitArray = encoding === 'l16' ? Int16Array : Uint8Array;
    this.left = new UnitArray(this.channelSamples);
    this.right = new UnitArray(this.channelSamples);
    this.interleaved = new UnitArray(this.channelSamples * 2);
    this.scratch = new Uint8Array(encoding === 'l16' ? 0 : this.channelSamples);
    const zero = new Uint8Array(1);
    if (encoding !== 'l16') encode(encoding, new Int16Array(1), zero);
    this.silence = zero[0];
    sink.write(wavHeader(sampleRate, 2, 0xffffffff - 36, encoding));
  }

  /** Masked caller audio (what the agent hears from the caller); `encoded`, when given, is the same frame as the codec bytes sent. */
  writeCaller(samples: Int16Array, encoded?: EncodedAudio): void {
    this.append(this.unitsOf(samples, encoded), true);
  }

  writeAgent(samples: Int16Array, encoded?: EncodedAudio): void {
    this.append(this.unitsOf(samples, encoded), false);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush(Math.max(this.leftFill, this.rightFill));
    this.closed = true;
    await this.sink.close();
  }

  /** The frame in this recording's units: the samples, or (G.711) the codec bytes as they were sent, else the samples encoded. */
  private unitsOf(samples: Int16Array, encoded: EncodedAudio | undefined): Units {
    if (this.encoding === 'l16') return samples;
    if (encoded && encoded.encoding === this.encoding && encoded.bytes.length === samples.length) return encoded.bytes;
    const n = samples.length;
    if (n > this.scratch.length) {
      const long = new Uint8Array(n);
      encode(this.encoding, samples, long);
      return long;
    }
    if (this.scratchView.length !== n) this.scratchView = this.scratch.subarray(0, n);
    encode(this.encoding, samples, this.scratchView);
    return this.scratchView;
  }

  private append(units: Units, caller: boolean): void {
    if (this.closed) return;
    let offset = 0;
    while (offset < units.length) {
      const fill = caller ? this.leftFill : this.rightFill;
      if (fill === this.channelSamples) this.flush(this.channelSamples);
      const at = caller ? this.leftFill : this.rightFill;
      const n = Math.min(this.channelSamples - at, units.length - offset);
      const channel = caller ? this.left : this.right;
      // Units and channel are of one kind: 16-bit in a 16-bit recording, codes in a G.711 one.
      channel.set((offset === 0 && n === units.length ? units : units.subarray(offset, offset + n)) as never, at);
      if (caller) this.leftFill += n;
      else this.rightFill += n;
      offset += n;
    }
    if (Math.min(this.leftFill, this.rightFill) >= this.flushSamples) this.flush(Math.min(this.leftFill, this.rightFill));
  }

  /** Writes the first `n` samples of both channels (missing samples are silence) and keeps the rest. */
  private flush(n: number): void {
    if (n === 0) return;
    const { interleaved: out, left, right, silence } = this;
    // Both channels hold the first `both` samples (every flush but a stall's or the last); past them, the short one is silence.
    const both = Math.min(n, this.leftFill, this.rightFill);
    for (let i = 0; i < both; i++) {
      out[2 * i] = left[i];
      out[2 * i + 1] = right[i];
    }
    for (let i = both; i < n; i++) {
      out[2 * i] = i < this.leftFill ? left[i] : silence;
      out[2 * i + 1] = i < this.rightFill ? right[i] : silence;
    }
    const bytes = n * 2 * out.BYTES_PER_ELEMENT;
    if (this.written.length !== bytes) this.written = new Uint8Array(out.buffer, 0, bytes);
    this.sink.write(this.written);
    this.left.copyWithin(0, Math.min(n, this.leftFill), this.leftFill);
    this.right.copyWithin(0, Math.min(n, this.rightFill), this.rightFill);
    this.leftFill = Math.max(0, this.leftFill - n);
    this.rightFill = Math.max(0, this.rightFill - n);
  }
}
