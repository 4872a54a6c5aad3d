import { bytesPerSample, decode, encode } from '../../dsp/index.js';
import { NARROWBAND_PCMU, NO_MESSAGE, type EncodedAudio, type InboundMediaEvent, type ParsedMediaMessage, type StreamFormat, type StreamStart } from '../../media/types.js';
import type { MediaWire, WireEncoder, WireSession } from '../media-socket.js';
import type { Base64FrameWriter } from '../base64-frame-writer.js';
import { base64Length, isCanonicalBase64 } from '../../media/base64.js';
import { mediaMessageWriter, NOT_FAST, readMediaFrame, type PayloadSpan } from './media-frame.js';
import { parseTwilioMessage, twilioClearMessage, twilioMarkMessage, type ParsedTwilioMessage, type TwilioStart } from './media-messages.js';

/** Largest accepted frame: 200 ms of μ-law (Twilio sends about 20 ms). */
export const MAX_FRAME_BYTES = 1600;
/** The longest frame accepted in any format, and the text around the payload of one outbound message (for the queue bound: 300 bytes per 20 ms of μ-law). */
const MAX_FRAME_MS = 200;
const FRAME_MESSAGE_OVERHEAD = 84;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Bytes of `ms` of audio in `format`. */
const bytesFor = (format: StreamFormat, ms: number) => (ms * format.sampleRate * bytesPerSample(format.encoding)) / 1000;

/** Why a media payload (base64 of audio) is refused, or null: the checks a payload passes before it is decoded. */
export function payloadRefusal(payload: string, maxBytes = MAX_FRAME_BYTES): 'frame_size' | 'bad_payload' | null {
  const size = (payload.length * 3) / 4 - (payload.endsWith('==') ? 2 : payload.endsWith('=') ? 1 : 0);
  if (size < 1 || size > maxBytes) return 'frame_size';
  if (payload.length % 4 !== 0 || !BASE64.test(payload)) return 'bad_payload';
  return null;
}

/** Views of the first `length` elements of a fixed buffer, remade only when the length changes (frames are nearly always 20 ms). */
export class FrameViews<T extends Uint8Array | Int16Array> {
  private view: T;
  constructor(private readonly whole: T) {
    this.view = whole;
  }

  of(length: number): T {
    if (this.view.length !== length) this.view = this.whole.subarray(0, length) as T;
    return this.view;
  }
}

const neutralStart = (start: TwilioStart): StreamStart => ({
  legCallId: start.callSid,
  streamId: start.streamSid,
  format: start.format ?? NARROWBAND_PCMU,
  parameters: start.parameters,
});

/** How a Twilio-format platform differs: how its text messages parse, and the largest frame in any format it sends. */
export interface TwilioFormatDialect {
  parse(text: string): ParsedTwilioMessage;
  maxFrameBytes: number;
}

/**
 * The decode buffers and the one audio result of a wire's sessions, shared by all of them: the
 * runner hands each message on before it reads the next (on any socket), so one set serves every
 * call and stays in cache, instead of one per socket read once every 20 ms.
 */
class FrameScratch {
  readonly inBytes: Uint8Array;
  readonly inBuffer: Buffer;
  readonly inByteViews: FrameViews<Uint8Array>;
  /** `inBytes` cut to a stream's longest frame. */
  readonly limitViews: FrameViews<Uint8Array>;
  readonly inSampleViews: FrameViews<Int16Array>;
  readonly span: PayloadSpan = { start: 0, end: 0 };
  readonly encoded: { -readonly [K in keyof EncodedAudio]: EncodedAudio[K] } = { encoding: 'pcmu', bytes: new Uint8Array(0), message: NO_MESSAGE, base64Start: 0, base64End: 0 };
  readonly audioEvent: Extract<InboundMediaEvent, { kind: 'audio' }> = { kind: 'audio', samples: new Int16Array(0), encoded: this.encoded };
  readonly audioResult: ParsedMediaMessage = { ok: true, event: this.audioEvent };

  constructor(maxFrameBytes: number) {
    this.inBytes = new Uint8Array(maxFrameBytes);
    this.inBuffer = Buffer.from(this.inBytes.buffer, this.inBytes.byteOffset, this.inBytes.byteLength);
    this.inByteViews = new FrameViews(this.inBytes);
    this.limitViews = new FrameViews(this.inBytes);
    this.inSampleViews = new FrameViews(new Int16Array(maxFrameBytes));
  }
}

/**
 * One Twilio-format media socket: a plain `media` frame is read straight from its bytes (no
 * string, no object), anything else goes through the schema; audio is decoded into the wire's
 * shared buffers and result, so a frame allocates nothing.
 */
class TwilioFormatSession implements WireSession {
  /** Set at `start`: the stream's format, and the longest frame it may send in bytes (the fast path decodes at most that). */
  private format?: StreamFormat;
  private frameLimit: number;

  constructor(
    private readonly dialect: TwilioFormatDialect,
    private readonly scratch: FrameScratch,
  ) {
    this.frameLimit = dialect.maxFrameBytes;
  }

  parse(data: Buffer, isBinary: boolean): ParsedMediaMessage {
    if (isBinary) return { ok: false, reason: 'invalid_message' };
    if (this.format) {
      const n = readMediaFrame(data, this.scratch.limitViews.of(this.frameLimit), this.scratch.span);
      if (n !== NOT_FAST) {
        const { start, end } = this.scratch.span;
        // Only the very text encoding the bytes would give is offered for forwarding, so what is forwarded is too.
        return isCanonicalBase64(data, start, end) ? this.decoded(n, data, start, end) : this.decoded(n, NO_MESSAGE, 0, 0);
      }
    }
    const parsed = this.dialect.parse(data.toString());
    if (!parsed.ok) return parsed;
    const event = parsed.event;
    switch (event.kind) {
      case 'audio': {
        if (!this.format) return { ok: false, reason: 'media_before_start' };
        const refusal = payloadRefusal(event.payload, this.frameLimit);
        return refusal ? { ok: false, reason: refusal } : this.decoded(this.scratch.inBuffer.write(event.payload, 'base64'), NO_MESSAGE, 0, 0);
      }
      case 'start': {
        const start = neutralStart(event.start);
        this.format = start.format;
        this.frameLimit = Math.min(this.dialect.maxFrameBytes, bytesFor(start.format, MAX_FRAME_MS));
        return { ok: true, event: { kind: 'start', start } };
      }
      default:
        return parsed as ParsedMediaMessage;
    }
  }

  encoder(start: StreamStart): WireEncoder {
    return new TwilioFormatEncoder(start.streamId, start.format, this.dialect.maxFrameBytes);
  }

  /** The first `n` bytes of `inBytes` are a frame's audio in the stream's format; `message[start, end)` is its text as it came, or empty. */
  private decoded(n: number, message: Buffer, start: number, end: number): ParsedMediaMessage {
    const format = this.format!;
    const width = bytesPerSample(format.encoding);
    if (n % width !== 0) return { ok: false, reason: 'frame_size' };
    const { scratch } = this;
    const samples = scratch.inSampleViews.of(n / width);
    const bytes = scratch.inByteViews.of(n);
    decode(format.encoding, bytes, samples);
    scratch.audioEvent.samples = samples;
    scratch.encoded.encoding = format.encoding;
    scratch.encoded.bytes = bytes;
    scratch.encoded.message = message;
    scratch.encoded.base64Start = start;
    scratch.encoded.base64End = end;
    return scratch.audioResult;
  }
}

/** Outbound `media`, `mark` and `clear` messages for one stream; media messages are built in one reused buffer. */
class TwilioFormatEncoder implements WireEncoder {
  readonly binary = false;
  readonly frameMessageBytes: number;
  private readonly writer: Base64FrameWriter;
  private readonly outBytes: Uint8Array;
  private readonly outByteViews: FrameViews<Uint8Array>;
  private readonly width: 1 | 2;

  constructor(
    private readonly streamSid: string,
    private readonly format: StreamFormat,
    maxFrameBytes: number,
  ) {
    this.width = bytesPerSample(format.encoding);
    this.outBytes = new Uint8Array(maxFrameBytes);
    this.outByteViews = new FrameViews(this.outBytes);
    this.writer = mediaMessageWriter(streamSid, maxFrameBytes);
    this.frameMessageBytes = FRAME_MESSAGE_OVERHEAD + Math.ceil(bytesFor(format, 20) / 3) * 4;
  }

  audio(samples: Int16Array, encoded?: EncodedAudio): Buffer | undefined {
    const n = samples.length * this.width;
    if (n > this.outBytes.length) return undefined;
    if (encoded?.encoding === this.format.encoding && encoded.bytes.length === n) {
      const { message, base64Start, base64End } = encoded;
      return base64End - base64Start === base64Length(n) ? this.writer.messageWithBase64(message, base64Start, base64End) : this.writer.message(encoded.bytes, n);
    }
    encode(this.format.encoding, samples, this.outByteViews.of(n));
    return this.writer.message(this.outBytes, n);
  }

  frame(samples: Int16Array, encoded?: EncodedAudio): Buffer | undefined {
    return this.audio(samples, encoded) && this.writer.lastAsFrame();
  }

  mark(name: string): string {
    return twilioMarkMessage(this.streamSid, name);
  }

  clear(): string {
    return twilioClearMessage(this.streamSid);
  }

  release(): void {
    this.writer.detach();
  }
}

/** A Twilio-format wire in a dialect (SignalWire's Compatibility API streams speak Twilio's messages). */
export function twilioFormatWire(dialect: TwilioFormatDialect): MediaWire {
  const scratch = new FrameScratch(dialect.maxFrameBytes);
  return { session: () => new TwilioFormatSession(dialect, scratch) };
}

/** Twilio Media Streams: JSON text messages, base64 μ-law at 8 kHz. */
export const twilioWire: MediaWire = twilioFormatWire({ parse: parseTwilioMessage, maxFrameBytes: MAX_FRAME_BYTES });
