import { z } from 'zod';
import { decodeBase64Into } from '../../media/base64.js';
import { bytesPerSample, decode, encode } from '../../dsp/index.js';
import { Base64FrameWriter } from '../base64-frame-writer.js';
import type { ParsedMediaMessage, StreamFormat, StreamStart } from '../../media/types.js';
import type { MediaWire, WireEncoder, WireSession } from '../media-socket.js';
import { decodeExtraHeaders } from './xml.js';

/** Longest accepted inbound or outbound frame: 200 ms (Plivo does not promise a chunk size; 20 ms is usual). */
const MAX_FRAME_MS = 200;
const maxFrameBytes = (format: StreamFormat) => (format.sampleRate * MAX_FRAME_MS * bytesPerSample(format.encoding)) / 1000;
const MAX_BYTES = maxFrameBytes({ encoding: 'l16', sampleRate: 16000 });

/** Plivo sends numbers as numbers; its own examples also show strings. */
const numeric = z.union([z.number(), z.string().max(20)]);
const id = z.string().regex(/^[A-Za-z0-9-]{1,64}$/);
const start = z.object({
  event: z.literal('start'),
  sequenceNumber: numeric.optional(),
  start: z.object({
    callId: id,
    streamId: id,
    accountId: z.string().max(64).optional(),
    tracks: z.array(z.string().max(16)).max(4).optional(),
    mediaFormat: z.object({ encoding: z.string().max(32), sampleRate: numeric }),
  }),
  extra_headers: z.unknown().optional(),
});
const media = z.object({
  event: z.literal('media'),
  sequenceNumber: numeric.optional(),
  streamId: id.optional(),
  media: z.object({ track: z.string().max(16).optional(), timestamp: numeric.optional(), chunk: numeric.optional(), payload: z.string() }),
});
const digit = z.enum(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#']);
/** The documented event has no field list; pipecat reads `dtmf.digit`, older pages show `digit` at the top: both are read. */
const dtmf = z.union([z.object({ event: z.literal('dtmf'), dtmf: z.object({ digit }) }), z.object({ event: z.literal('dtmf'), digit })]);
const played = z.object({ event: z.enum(['playedStream', 'played']), name: z.string().max(256) });

const KNOWN = new Set(['start', 'media', 'dtmf', 'playedStream', 'played', 'clearedAudio', 'stop']);

/** `audio/x-mulaw` at 8 kHz, `audio/x-l16` at 8 or 16 kHz (the only formats `<Stream contentType>` offers). */
export function plivoFormat(encoding: string, sampleRate: number | string): StreamFormat | undefined {
  const rate = Number(sampleRate);
  const kind = encoding.toLowerCase().split(';')[0].trim();
  if (kind === 'audio/x-mulaw' && rate === 8000) return { encoding: 'pcmu', sampleRate: 8000 };
  if (kind === 'audio/x-l16' && (rate === 8000 || rate === 16000)) return { encoding: 'l16', sampleRate: rate };
  return undefined;
}

function parseJson(data: Buffer): { event: string; json: object } | 'invalid_json' | 'invalid_message' | 'unknown_event' {
  let json: unknown;
  try {
    json = JSON.parse(data.toString('utf8'));
  } catch {
    return 'invalid_json';
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return 'invalid_message';
  const event = (json as { event?: unknown }).event;
  return typeof event === 'string' && KNOWN.has(event) ? { event, json } : 'unknown_event';
}

/**
 * One Plivo audio stream: JSON text messages, base64 audio in the format the `start` names.
 * Plivo documents no `stop` (the socket closes); one is accepted if it comes.
 */
class PlivoSession implements WireSession {
  private format: StreamFormat | undefined;
  // Room for the whole base64 quantum past the limit, so that an over-long payload reads as `frame_size`.
  private readonly bytes = new Uint8Array(MAX_BYTES + 3);
  private readonly samples = new Int16Array(MAX_BYTES);

  parse(data: Buffer, isBinary: boolean): ParsedMediaMessage {
    if (isBinary) return { ok: false, reason: 'invalid_message' };
    const parsed = parseJson(data);
    if (typeof parsed === 'string') return { ok: false, reason: parsed };
    switch (parsed.event) {
      case 'media':
        return this.audio(parsed.json);
      case 'start':
        return this.start(parsed.json);
      case 'dtmf': {
        const event = dtmf.safeParse(parsed.json);
        if (!event.success) return { ok: false, reason: 'invalid_message' };
        if (!this.format) return { ok: false, reason: 'media_before_start' };
        return { ok: true, event: { kind: 'dtmf', key: 'dtmf' in event.data ? event.data.dtmf.digit : event.data.digit } };
      }
      case 'playedStream':
      case 'played': {
        const event = played.safeParse(parsed.json);
        return event.success ? { ok: true, event: { kind: 'mark', name: event.data.name } } : { ok: false, reason: 'invalid_message' };
      }
      case 'stop':
        return { ok: true, event: { kind: 'stop' } };
      default:
        // clearedAudio: the acknowledgement of our clearAudio; nothing to do.
        return { ok: true, event: { kind: 'connected' } };
    }
  }

  private start(json: object): ParsedMediaMessage {
    const event = start.safeParse(json);
    if (!event.success) return { ok: false, reason: 'invalid_message' };
    if (this.format) return { ok: false, reason: 'duplicate_start' };
    const { callId, streamId, mediaFormat } = event.data.start;
    const format = plivoFormat(mediaFormat.encoding, mediaFormat.sampleRate);
    if (!format) return { ok: false, reason: 'unsupported_format' };
    this.format = format;
    const parameters = decodeExtraHeaders(event.data.extra_headers);
    // Toneguard knows the agent's call by the request_uuid it placed (Plivo's CallUUID comes later), and its credential names that id.
    const legCallId = parameters.leg === 'agent' && parameters.request ? parameters.request : callId;
    return { ok: true, event: { kind: 'start', start: { legCallId, streamId, format, parameters } } };
  }

  private audio(json: object): ParsedMediaMessage {
    const event = media.safeParse(json);
    if (!event.success) return { ok: false, reason: 'invalid_message' };
    if (!this.format) return { ok: false, reason: 'media_before_start' };
    const text = Buffer.from(event.data.media.payload, 'latin1');
    const limit = maxFrameBytes(this.format);
    const width = bytesPerSample(this.format.encoding);
    // 4 base64 characters carry 3 bytes: text longer than the limit's is too long before decoding.
    const quanta = Math.ceil(limit / 3);
    if (text.length === 0 || text.length > quanta * 4) return { ok: false, reason: 'frame_size' };
    const n = decodeBase64Into(text, 0, text.length, this.bytes.subarray(0, quanta * 3));
    if (n < 0) return { ok: false, reason: 'bad_payload' };
    if (n < width || n > limit || n % width !== 0) return { ok: false, reason: 'frame_size' };
    const samples = this.samples.subarray(0, n / width);
    decode(this.format.encoding, this.bytes.subarray(0, n), samples);
    return { ok: true, event: { kind: 'audio', samples } };
  }

  encoder(streamStart: StreamStart): WireEncoder {
    return new PlivoEncoder(streamStart);
  }
}

/** `playAudio` frames in the stream's own format; `checkpoint` for marks (answered by `playedStream`), `clearAudio` to flush. */
class PlivoEncoder implements WireEncoder {
  readonly binary = false;
  readonly frameMessageBytes: number;
  private readonly writer: Base64FrameWriter;
  private readonly bytes: Uint8Array;
  private readonly limit: number;

  constructor(private readonly start: StreamStart) {
    const { format } = start;
    this.limit = maxFrameBytes(format);
    this.bytes = new Uint8Array(this.limit);
    const contentType = format.encoding === 'pcmu' ? 'audio/x-mulaw' : 'audio/x-l16';
    this.writer = new Base64FrameWriter(`{"event":"playAudio","media":{"contentType":"${contentType}","sampleRate":${format.sampleRate},"payload":"\0"}}`, this.limit);
    this.frameMessageBytes = this.writer.messageBytes((format.sampleRate / 50) * bytesPerSample(format.encoding));
  }

  audio(samples: Int16Array): Buffer | undefined {
    const n = samples.length * bytesPerSample(this.start.format.encoding);
    if (n === 0 || n > this.limit) return undefined;
    encode(this.start.format.encoding, samples, this.bytes.subarray(0, n));
    return this.writer.message(this.bytes, n);
  }

  mark(name: string): string {
    return JSON.stringify({ event: 'checkpoint', streamId: this.start.streamId, name });
  }

  clear(): string {
    return JSON.stringify({ event: 'clearAudio', streamId: this.start.streamId });
  }

  release(): void {
    this.writer.detach();
  }
}

export const plivoWire: MediaWire = { session: () => new PlivoSession() };
