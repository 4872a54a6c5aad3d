import { FRAME_SAMPLES } from './concealment.js';
import { writeHeader } from './packet.js';
import { encodeG711, type AudioCodec } from './payloads.js';

const HEADER = 12;

/**
 * The masked stream towards the agent, re-originated: its own SSRC, one 20 ms packet per 160
 * samples whatever the caller's packet size, sequence numbers that never skip (nothing the
 * caller sent, dropped events included, leaves a hole), timestamps on the media clock. The
 * marker bit starts the stream and every talkspurt after a discontinuity (RFC 3551 §4.1).
 * Holds less than one frame of samples.
 */
export class OutboundStream {
  private sequence: number;
  private timestamp: number;
  private marker = true;
  private readonly pending = new Int16Array(FRAME_SAMPLES);
  private pendingLength = 0;
  packets = 0;

  constructor(
    readonly ssrc: number,
    private readonly send: (packet: Buffer) => void,
    initial: { sequence: number; timestamp: number },
  ) {
    this.sequence = initial.sequence & 0xffff;
    this.timestamp = initial.timestamp >>> 0;
  }

  /** Queues samples; sends every complete 20 ms frame in `codec` with payload type `payloadType`. */
  push(samples: Int16Array, codec: AudioCodec, payloadType: number): void {
    let at = 0;
    while (at < samples.length) {
      const n = Math.min(FRAME_SAMPLES - this.pendingLength, samples.length - at);
      this.pending.set(samples.subarray(at, at + n), this.pendingLength);
      this.pendingLength += n;
      at += n;
      if (this.pendingLength === FRAME_SAMPLES) this.emit(codec, payloadType);
    }
  }

  /** The media clock moved on by `samples` with nothing sent: the next packet's timestamp jumps and carries the marker. */
  skip(samples: number): void {
    this.timestamp = (this.timestamp + samples) >>> 0;
    this.marker = true;
  }

  private emit(codec: AudioCodec, payloadType: number): void {
    const packet = Buffer.allocUnsafe(HEADER + FRAME_SAMPLES);
    writeHeader(packet, { marker: this.marker, payloadType, sequence: this.sequence, timestamp: this.timestamp, ssrc: this.ssrc });
    encodeG711(codec, this.pending, packet.subarray(HEADER));
    this.marker = false;
    this.sequence = (this.sequence + 1) & 0xffff;
    this.timestamp = (this.timestamp + FRAME_SAMPLES) >>> 0;
    this.pendingLength = 0;
    this.packets++;
    this.send(packet);
  }
}
