import { decodeMulaw, encodeMulaw } from '../../dsp/index.js';
import { NARROWBAND_PCMU, type InboundMediaEvent, type ParsedMediaMessage, type StreamStart } from '../../media/types.js';
import type { MediaWire, WireEncoder, WireSession } from '../media-socket.js';
import { MediaMessageWriter, NOT_FAST, readMediaFrame } from './media-frame.js';
import { parseTwilioMessage, twilioClearMessage, twilioMarkMessage, type TwilioStart } from './media-messages.js';

/** Largest accepted frame: 200 ms of μ-law (Twilio sends about 20 ms). */
export const MAX_FRAME_BYTES = 1600;
/** Bytes of one 20 ms outbound media message, to turn `maxQueuedFrames` into a `bufferedAmount` bound. */
const FRAME_MESSAGE_BYTES = 300;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Why a media payload (base64 of μ-law) is refused, or null: the checks a payload passes before it is decoded. */
export function payloadRefusal(payload: string): 'frame_size' | 'bad_payload' | null {
  const size = (payload.length * 3) / 4 - (payload.endsWith('==') ? 2 : payload.endsWith('=') ? 1 : 0);
  if (size < 1 || size > MAX_FRAME_BYTES) return 'frame_size';
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
  format: NARROWBAND_PCMU,
  parameters: start.parameters,
});

/**
 * One Twilio Media Streams socket: a plain `media` frame is read straight from its bytes (no
 * string, no object), anything else goes through the schema; audio is decoded into buffers the
 * session owns, and the one audio result is reused, so a frame allocates nothing.
 */
class TwilioWireSession implements WireSession {
  private readonly inBytes = new Uint8Array(MAX_FRAME_BYTES);
  private readonly inBuffer = Buffer.from(this.inBytes.buffer, this.inBytes.byteOffset, this.inBytes.byteLength);
  private readonly inByteViews = new FrameViews(this.inBytes);
  private readonly inSampleViews = new FrameViews(new Int16Array(MAX_FRAME_BYTES));
  private readonly audioEvent: Extract<InboundMediaEvent, { kind: 'audio' }> = { kind: 'audio', samples: new Int16Array(0) };
  private readonly audioResult: ParsedMediaMessage = { ok: true, event: this.audioEvent };
  private started = false;

  parse(data: Buffer, isBinary: boolean): ParsedMediaMessage {
    if (isBinary) return { ok: false, reason: 'invalid_message' };
    if (this.started) {
      const n = readMediaFrame(data, this.inBytes);
      if (n !== NOT_FAST) return this.decoded(n);
    }
    const parsed = parseTwilioMessage(data.toString());
    if (!parsed.ok) return parsed;
    const event = parsed.event;
    switch (event.kind) {
      case 'audio': {
        if (!this.started) return { ok: false, reason: 'media_before_start' };
        const refusal = payloadRefusal(event.payload);
        return refusal ? { ok: false, reason: refusal } : this.decoded(this.inBuffer.write(event.payload, 'base64'));
      }
      case 'start':
        this.started = true;
        return { ok: true, event: { kind: 'start', start: neutralStart(event.start) } };
      default:
        return parsed as ParsedMediaMessage;
    }
  }

  encoder(start: StreamStart): WireEncoder {
    return new TwilioEncoder(start.streamId);
  }

  /** The first `n` bytes of `inBytes` are a frame's μ-law audio. */
  private decoded(n: number): ParsedMediaMessage {
    const samples = this.inSampleViews.of(n);
    decodeMulaw(this.inByteViews.of(n), samples);
    this.audioEvent.samples = samples;
    return this.audioResult;
  }
}

/** Outbound `media`, `mark` and `clear` messages for one stream; media messages are built in one reused buffer. */
class TwilioEncoder implements WireEncoder {
  readonly binary = false;
  readonly frameMessageBytes = FRAME_MESSAGE_BYTES;
  private readonly writer: MediaMessageWriter;
  private readonly outBytes = new Uint8Array(MAX_FRAME_BYTES);
  private readonly outByteViews = new FrameViews(this.outBytes);

  constructor(private readonly streamSid: string) {
    this.writer = new MediaMessageWriter(streamSid, MAX_FRAME_BYTES);
  }

  audio(samples: Int16Array): Buffer | undefined {
    if (samples.length > MAX_FRAME_BYTES) return undefined;
    encodeMulaw(samples, this.outByteViews.of(samples.length));
    return this.writer.message(this.outBytes, samples.length);
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

/** Twilio Media Streams: JSON text messages, base64 μ-law at 8 kHz. */
export const twilioWire: MediaWire = { session: () => new TwilioWireSession() };
