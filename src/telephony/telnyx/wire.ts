import { z } from 'zod';
import type { Keypress } from '../../capture/types.js';
import { encode, type AudioEncoding } from '../../dsp/index.js';
import type { MediaRejectReason } from '../../media/types.js';
import { Reorderer, type ReorderCounts } from './reorder.js';
import { callControlId } from './webhook.js';

/**
 * Telnyx's media WebSocket (Call Control `streaming_start` with `stream_bidirectional_mode: rtp`):
 * JSON text frames, `connected` → `start` → `media`… (`dtmf`, `mark`, `error`) → `stop`; audio is
 * base64 of the RTP payload without headers. Frames may arrive out of order: everything after
 * `start` that carries a `sequence_number` goes through a small reorder window.
 */

export interface TelnyxStreamFormat {
  encoding: AudioEncoding;
  sampleRate: 8000 | 16000;
}

export interface TelnyxStart {
  /** The leg's `call_control_id`. */
  legCallId: string;
  streamId: string;
  format: TelnyxStreamFormat;
  /** `start.custom_parameters`: `leg`, `agent`, `credential` as `streaming_start` set them. Untrusted until the credential is redeemed. */
  parameters: Readonly<Record<string, string>>;
}

export type TelnyxEvent =
  | { kind: 'connected' }
  | { kind: 'start'; start: TelnyxStart }
  /** Audio bytes in the stream's encoding (L16 already little-endian). */
  | { kind: 'audio'; bytes: Uint8Array }
  | { kind: 'dtmf'; key: Keypress }
  | { kind: 'mark'; name: string }
  /** Telnyx reported a streaming error (its code only). */
  | { kind: 'error'; code: string }
  | { kind: 'stop' };

/** What one message yields once reordered: the events now due (often none or one) and the refusals among them. */
export interface TelnyxParsed {
  events: TelnyxEvent[];
  refusals: MediaRejectReason[];
}

const refused = (reason: MediaRejectReason): TelnyxParsed => ({ events: [], refusals: [reason] });

/** Largest accepted inbound frame: 200 ms (Telnyx sends about 20 ms; it promises no size). */
export const maxFrameBytes = (format: TelnyxStreamFormat) => (format.sampleRate / 5) * (format.encoding === 'l16' ? 2 : 1);

const numeric = z.union([z.string().regex(/^\d{1,15}$/), z.int().min(0).max(Number.MAX_SAFE_INTEGER)]);
const streamId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
const digit = z.enum(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#']);
const parameterName = z.string().max(64);
const parameterValue = z.string().max(256);
/** Documented as an object; `streaming_start` takes a `[{name, value}]` list, so accept that shape too. */
const customParameters = z
  .union([z.record(parameterName, parameterValue), z.array(z.object({ name: parameterName, value: parameterValue })).max(16)])
  .transform((p) => (Array.isArray(p) ? Object.fromEntries(p.map(({ name, value }) => [name, value])) : p));

const start = z.object({
  event: z.literal('start'),
  sequence_number: numeric.optional(),
  stream_id: streamId,
  start: z.object({
    call_control_id: callControlId,
    custom_parameters: customParameters.default({}),
    media_format: z.object({
      encoding: z.string().max(16),
      sample_rate: z.int().optional(),
      channels: z.int().optional(),
    }),
  }),
});
const media = z.object({
  event: z.literal('media'),
  sequence_number: numeric.optional(),
  stream_id: streamId.optional(),
  media: z.object({
    track: z.string().max(32).optional(),
    chunk: numeric.optional(),
    timestamp: numeric.optional(),
    payload: z.string(),
  }),
});
/** The digit is documented only by third-party code as `dtmf.digit`; a top-level `digit` is accepted too. */
const dtmf = z.union([
  z.object({ event: z.literal('dtmf'), sequence_number: numeric.optional(), dtmf: z.object({ digit }) }).transform((m) => ({ ...m, digit: m.dtmf.digit })),
  z.object({ event: z.literal('dtmf'), sequence_number: numeric.optional(), digit }),
]);
const mark = z.object({ event: z.literal('mark'), sequence_number: numeric.optional(), mark: z.object({ name: z.string().max(256) }) });
const error = z.object({
  event: z.literal('error'),
  sequence_number: numeric.optional(),
  payload: z.object({ code: z.union([z.string().max(32), z.int()]).optional() }).optional(),
});
const stop = z.object({ event: z.literal('stop'), sequence_number: numeric.optional() });

const KNOWN_EVENTS = new Set(['connected', 'start', 'media', 'dtmf', 'mark', 'error', 'stop']);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The stream's format from `start.media_format`; null for codecs Toneguard does not run (G722, OPUS, AMR-WB). */
export function formatOf(mediaFormat: { encoding: string; sample_rate?: number }): TelnyxStreamFormat | null {
  const encoding = mediaFormat.encoding.toUpperCase();
  if (encoding === 'PCMU' || encoding === 'PCMA') {
    if (mediaFormat.sample_rate !== undefined && mediaFormat.sample_rate !== 8000) return null;
    return { encoding: encoding === 'PCMU' ? 'pcmu' : 'pcma', sampleRate: 8000 };
  }
  if (encoding === 'L16') {
    const rate = mediaFormat.sample_rate ?? 16000;
    return rate === 8000 || rate === 16000 ? { encoding: 'l16', sampleRate: rate } : null;
  }
  return null;
}

/** Swaps each byte pair in place: network-order L16 ↔ the little-endian L16 the DSP reads. */
export function swapBytePairs(bytes: Uint8Array): void {
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    const b = bytes[i];
    bytes[i] = bytes[i + 1];
    bytes[i + 1] = b;
  }
}

/** A parsed message waiting for its turn: an event, a refusal, or nothing to deliver (an outbound-track echo). */
type Pending = { event: TelnyxEvent } | { reason: MediaRejectReason } | { ignored: true };
const isStop = (p: Pending) => 'event' in p && p.event.kind === 'stop';

/**
 * Parses one Telnyx media socket: owns the reorder window and the format learnt at `start`.
 * Never throws; a refusal names a reason, never the payload.
 */
export class TelnyxInbound {
  private format: TelnyxStreamFormat | undefined;
  private readonly reorderer: Reorderer<Pending>;

  constructor(
    reorderWindowFrames: number,
    private readonly l16ByteOrder: 'big' | 'little' = 'big',
  ) {
    this.reorderer = new Reorderer(reorderWindowFrames);
  }

  get reorderCounts(): Readonly<ReorderCounts> {
    return this.reorderer.counts;
  }

  accept(text: string): TelnyxParsed {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return refused('invalid_json');
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) return refused('invalid_message');
    const event = (json as { event?: unknown }).event;
    if (typeof event !== 'string' || !KNOWN_EVENTS.has(event)) return refused('unknown_event');
    if (event === 'connected') return { events: [{ kind: 'connected' }], refusals: [] };
    if (event === 'start') return this.start(json);
    if (!this.format) return refused('media_before_start');
    const sequence = numeric.safeParse((json as { sequence_number?: unknown }).sequence_number);
    // Every message with a sequence number takes its slot, refused or not, so a refusal opens no gap.
    const pending = this.parse(event, json, this.format);
    const due = sequence.success ? this.reorderer.push(Number(sequence.data), pending) : [pending];
    if (event !== 'stop') return this.settle(due);
    // The stream ends: what the window holds is due now, and `stop` comes last.
    const all = [...due, ...this.reorderer.flush()];
    return this.settle([...all.filter((p) => !isStop(p)), ...(isStop(pending) ? [pending] : [])]);
  }

  /** Whatever the window still holds, in order (the socket closed without `stop`). */
  drain(): TelnyxEvent[] {
    return this.reorderer.flush().flatMap((p) => ('event' in p ? [p.event] : []));
  }

  private start(json: unknown): TelnyxParsed {
    if (this.format) return refused('duplicate_start');
    const parsed = start.safeParse(json);
    if (!parsed.success) return refused('invalid_message');
    const format = formatOf(parsed.data.start.media_format);
    if (!format) return refused('invalid_message');
    this.format = format;
    if (parsed.data.sequence_number !== undefined) this.reorderer.startAfter(Number(parsed.data.sequence_number));
    const { call_control_id, custom_parameters } = parsed.data.start;
    return { events: [{ kind: 'start', start: { legCallId: call_control_id, streamId: parsed.data.stream_id, format, parameters: custom_parameters } }], refusals: [] };
  }

  private parse(event: string, json: unknown, format: TelnyxStreamFormat): Pending {
    switch (event) {
      case 'media': {
        const parsed = media.safeParse(json);
        if (!parsed.success) return { reason: 'invalid_message' };
        // Only the leg's own inbound audio is masked and forwarded; an echo of what we send is not.
        if (parsed.data.media.track !== undefined && parsed.data.media.track !== 'inbound') return { ignored: true };
        return this.audio(parsed.data.media.payload, format);
      }
      case 'dtmf': {
        const parsed = dtmf.safeParse(json);
        return parsed.success ? { event: { kind: 'dtmf', key: parsed.data.digit } } : { reason: 'invalid_message' };
      }
      case 'mark': {
        const parsed = mark.safeParse(json);
        return parsed.success ? { event: { kind: 'mark', name: parsed.data.mark.name } } : { reason: 'invalid_message' };
      }
      case 'error': {
        const parsed = error.safeParse(json);
        return parsed.success ? { event: { kind: 'error', code: String(parsed.data.payload?.code ?? 'unknown') } } : { reason: 'invalid_message' };
      }
      default:
        return stop.safeParse(json).success ? { event: { kind: 'stop' } } : { reason: 'invalid_message' };
    }
  }

  private audio(payload: string, format: TelnyxStreamFormat): Pending {
    const size = (payload.length * 3) / 4 - (payload.endsWith('==') ? 2 : payload.endsWith('=') ? 1 : 0);
    const sampleBytes = format.encoding === 'l16' ? 2 : 1;
    if (size < sampleBytes || size > maxFrameBytes(format) || size % sampleBytes !== 0) return { reason: 'frame_size' };
    if (payload.length % 4 !== 0 || !BASE64.test(payload)) return { reason: 'bad_payload' };
    const bytes = Buffer.from(payload, 'base64');
    if (format.encoding === 'l16' && this.l16ByteOrder === 'big') swapBytePairs(bytes);
    return { event: { kind: 'audio', bytes } };
  }

  private settle(due: Pending[]): TelnyxParsed {
    const parsed: TelnyxParsed = { events: [], refusals: [] };
    for (const p of due) {
      if ('event' in p) parsed.events.push(p.event);
      else if ('reason' in p) parsed.refusals.push(p.reason);
    }
    return parsed;
  }
}

/** Outbound frames: audio as the stream's codec in base64, marks and clear. */
export class TelnyxOutbound {
  private readonly bytes: Uint8Array;

  constructor(
    private readonly streamId: string,
    private readonly format: TelnyxStreamFormat,
    private readonly l16ByteOrder: 'big' | 'little' = 'big',
    maxSamples = format.sampleRate / 5,
  ) {
    this.bytes = new Uint8Array(maxSamples * (format.encoding === 'l16' ? 2 : 1));
  }

  /** One `media` message carrying `samples` (at most 200 ms). */
  media(samples: Int16Array): string {
    const length = samples.length * (this.format.encoding === 'l16' ? 2 : 1);
    const view = this.bytes.subarray(0, length);
    encode(this.format.encoding, samples, view);
    if (this.format.encoding === 'l16' && this.l16ByteOrder === 'big') swapBytePairs(view);
    return `{"event":"media","stream_id":"${this.streamId}","media":{"payload":"${Buffer.from(view.buffer, view.byteOffset, length).toString('base64')}"}}`;
  }

  mark(name: string): string {
    return JSON.stringify({ event: 'mark', stream_id: this.streamId, mark: { name } });
  }

  clear(): string {
    return `{"event":"clear","stream_id":"${this.streamId}"}`;
  }
}
