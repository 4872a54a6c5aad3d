import { FRAME_HEADROOM, MAX_FRAMED_PAYLOAD, TEXT_OPCODE, writeFrameHeader } from '../http/ws-frame.js';
import { base64Length, encodeBase64Into } from '../media/base64.js';

/**
 * Builds outbound JSON audio messages (`…"payload":"<base64>"…`) into one reused buffer: the
 * fixed text around the payload is written once, each frame only encodes its bytes between.
 * The text around must need no escaping per frame (ids validated at the stream's start). Room is
 * left in front for a WebSocket header, so the last message can also be had as a whole frame.
 */
export class Base64FrameWriter {
  private readonly prefix: Buffer;
  private readonly suffix: Buffer;
  private buffer: Buffer;
  /** The last message (after the headroom), and the last frame; each remade only when its bounds change. */
  private view: Buffer;
  private frameView: Buffer;
  private end = 0;

  /** `template` holds the message with `\0` where the base64 payload goes. */
  constructor(
    template: string,
    private readonly maxBytes: number,
  ) {
    const [prefix, suffix] = template.split('\0');
    this.prefix = Buffer.from(prefix, 'utf8');
    this.suffix = Buffer.from(suffix ?? '', 'utf8');
    if (this.messageBytes(maxBytes) > MAX_FRAMED_PAYLOAD) throw new RangeError('audio messages this long cannot be framed in place');
    this.buffer = this.fresh();
    this.view = this.buffer;
    this.frameView = this.buffer;
  }

  /** Bytes of the message for `n` payload bytes. */
  messageBytes(n: number): number {
    return this.prefix.length + base64Length(n) + this.suffix.length;
  }

  /** The message carrying `bytes[0, n)`; valid until the next call. */
  message(bytes: Uint8Array, n: number): Buffer {
    return this.finish(encodeBase64Into(bytes, n, this.buffer, FRAME_HEADROOM + this.prefix.length));
  }

  /**
   * The message carrying `source[start, end)`, base64 as it arrived and already checked strict
   * (by `decodeBase64Into`), so that it cannot break the JSON around it; valid until the next call.
   */
  messageWithBase64(source: Buffer, start: number, end: number): Buffer {
    const at = FRAME_HEADROOM + this.prefix.length;
    // A native copy: four times a byte loop's speed on a frame's few hundred bytes.
    source.copy(this.buffer, at, start, end);
    return this.finish(at + end - start);
  }

  /** The last message as one whole WebSocket text frame, header and all; valid until the next call. */
  lastAsFrame(): Buffer {
    const start = writeFrameHeader(this.buffer, FRAME_HEADROOM, this.end - FRAME_HEADROOM, TEXT_OPCODE);
    // `buffer` is its own allocation (offset 0): a view's offset is where it starts in it.
    if (this.frameView.byteOffset !== start || this.frameView.length !== this.end - start) this.frameView = this.buffer.subarray(start, this.end);
    return this.frameView;
  }

  /** The socket still holds the last message: later messages go to a new buffer. */
  detach(): void {
    this.buffer = this.fresh();
    this.view = this.buffer;
    this.frameView = this.buffer;
  }

  /** Writes the suffix after the payload ending at `end`; the message is the buffer from the headroom up to it. */
  private finish(end: number): Buffer {
    const { buffer, suffix } = this;
    // A few bytes: a loop costs less than `Buffer#copy`'s checks and native call.
    for (let i = 0; i < suffix.length; i++) buffer[end + i] = suffix[i];
    this.end = end + suffix.length;
    // After `detach` the view is the whole buffer, longer than any message: it is remade.
    if (this.view.length !== this.end - FRAME_HEADROOM) this.view = buffer.subarray(FRAME_HEADROOM, this.end);
    return this.view;
  }

  /** Not zero-filled: `message` only ever exposes bytes it has just written. */
  private fresh(): Buffer {
    const buffer = Buffer.allocUnsafeSlow(FRAME_HEADROOM + this.messageBytes(this.maxBytes));
    this.prefix.copy(buffer, FRAME_HEADROOM);
    return buffer;
  }
}
