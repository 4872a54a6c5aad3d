import { bytesPerSample, decode, encode } from '../../dsp/index.js';
import { NARROWBAND_PCMU, type EncodedAudio, type InboundMediaEvent, type ParsedMediaMessage, type StreamFormat, type StreamStart } from '../../media/types.js';
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
 * One Twilio-format media socket: a plain `media` frame is read straight from its bytes (no
 * string, no object), anything else goes through the schema; audio is decoded into buffers the
 * session owns, and the one audio result is reused, so a frame allocates nothing.
 */
class TwilioFormatSession implements WireSession {
  private readonly inBytes: Uint8Array;
  private readonly inBuffer: Buffer;
  private readonly inByteViews: FrameViews<Uint8Array>;
  private readonly inSampleViews: FrameViews<Int16Array>;
  /** The fast path's payload text, copied out of the message (which `ws` owns). */
  private readonly inTextViews: FrameViews<Uint8Array>;
  private readonly span: PayloadSpan = { start: 0, end: 0 };
  private readonly encoded: { encoding: EncodedAudio['encoding']; bytes: Uint8Array; base64: Uint8Array } = { encoding: 'pcmu', bytes: new Uint8Array(0), base64: new Uint8Array(0) };
  private readonly audioEvent: Extract<InboundMediaEvent, { kind: 'audio' }> = { kind: 'audio', samples: new Int16Array(0), encoded: this.encoded };
  private readonly audioResult: ParsedMediaMessage = { ok: true, event: this.audioEvent };
  /** Set at `start`: the stream's format, and `inBytes` cut to its longest frame (the fast path decodes at most that). */
  private format?: StreamFormat;
  private frameLimit: Uint8Array;

  constructor(private readonly dialect: TwilioFormatDialect) {
    this.inBytes = new Uint8Array(dialect.maxFrameBytes);
    this.inBuffer = Buffer.from(this.inBytes.buffer, this.inBytes.byteOffset, this.inBytes.byteLength);
    this.inByteViews = new FrameViews(this.inBytes);
    this.inSampleViews = new FrameViews(new Int16Array(dialect.maxFrameBytes));
    this.inTextViews = new FrameViews(new Uint8Array(base64Length(dialect.maxFrameBytes)));
    this.frameLimit = this.inBytes;
  }

  parse(data: Buffer, isBinary: boolean): ParsedMediaMessage {
    if (isBinary) return { ok: false, reason: 'invalid_message' };
    if (this.format) {
      const n = readMediaFrame(data, this.frameLimit, this.span);
      if (n !== NOT_FAST) return this.decoded(n, this.copyText(data));
    }
    const parsed = this.dialect.parse(data.toString());
    if (!parsed.ok) return parsed;
    const event = parsed.event;
    switch (event.kind) {
      case 'audio': {
        if (!this.format) return { ok: false, reason: 'media_before_start' };
        const refusal = payloadRefusal(event.payload, this.frameLimit.length);
        return refusal ? { ok: false, reason: refusal } : this.decoded(this.inBuffer.write(event.payload, 'base64'), this.inTextViews.of(0));
      }
      case 'start': {
        const start = neutralStart(event.start);
        this.format = start.format;
        this.frameLimit = this.inBytes.subarray(0, Math.min(this.inBytes.length, bytesFor(start.format, MAX_FRAME_MS)));
        return { ok: true, event: { kind: 'start', start } };
      }
      default:
        return parsed as ParsedMediaMessage;
    }
  }

  encoder(start: StreamStart): WireEncoder {
    return new TwilioFormatEncoder(start.streamId, start.format, this.dialect.maxFrameBytes);
  }

  /**
   * The payload text `span` found in `data`, copied (a few hundred bytes: a loop, no view made);
   * empty unless it is the very text encoding the bytes would give, so what is forwarded is too.
   */
  private copyText(data: Buffer): Uint8Array {
    const { start, end } = this.span;
    const text = this.inTextViews.of(isCanonicalBase64(data, start, end) ? end - start : 0);
    for (let i = 0; i < text.length; i++) text[i] = data[start + i];
    return text;
  }

  /** The first `n` bytes of `inBytes` are a frame's audio in the stream's format; `base64` is its text as it came, or empty. */
  private decoded(n: number, base64: Uint8Array): ParsedMediaMessage {
    const format = this.format!;
    const width = bytesPerSample(format.encoding);
    if (n % width !== 0) return { ok: false, reason: 'frame_size' };
    const samples = this.inSampleViews.of(n / width);
    const bytes = this.inByteViews.of(n);
    decode(format.encoding, bytes, samples);
    this.audioEvent.samples = samples;
    this.encoded.encoding = format.encoding;
    this.encoded.bytes = bytes;
    this.encoded.base64 = base64;
    return this.audioResult;
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
      return encoded.base64.length === base64Length(n) ? this.writer.messageWithBase64(encoded.base64) : this.writer.message(encoded.bytes, n);
    }
    encode(this.format.encoding, samples, this.outByteViews.of(n));
    return this.writer.message(this.outBytes, n);
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
  return { session: () => new TwilioFormatSession(dialect) };
}

/** Twilio Media Streams: JSON text messages, base64 μ-law at 8 kHz. */
export const twilioWire: MediaWire = twilioFormatWire({ parse: parseTwilioMessage, maxFrameBytes: MAX_FRAME_BYTES });
