import { z } from 'zod';
import type { Keypress } from '../../capture/types.js';
import type { MediaRejectReason } from '../../media/types.js';
import { CALL_HEADER } from './ncco.js';
import type { VonageRate } from './settings.js';

/**
 * Vonage's websocket endpoint: the first message is text (`websocket:connected`, with the NCCO
 * `headers` flattened into it), then binary frames of linear 16-bit PCM (little-endian), 20 ms
 * each (320 bytes at 8 kHz, 640 at 16 kHz), with text events such as `websocket:dtmf` between.
 */

export interface VonageStart {
  /** The leg's call uuid, from the `call` header Toneguard wrote into the NCCO. */
  legCallId: string;
  /** Vonage has no stream id: the leg's uuid stands in. */
  streamId: string;
  sampleRate: VonageRate;
  /** The other NCCO headers (`leg`, `agent`, `credential`). Untrusted until the credential is redeemed. */
  parameters: Readonly<Record<string, string>>;
}

export type VonageEvent =
  | { kind: 'start'; start: VonageStart }
  /** Little-endian L16 bytes, a view valid until the next message. */
  | { kind: 'audio'; bytes: Uint8Array }
  | { kind: 'dtmf'; key: Keypress }
  /** Vonage acknowledged a `notify` (its payload's name) or a `clear` (no name). */
  | { kind: 'ack'; name?: string };

export type VonageParsed = { ok: true; event: VonageEvent } | { ok: false; reason: MediaRejectReason };

/** Bytes of one 20 ms frame. */
export const frameBytes = (rate: VonageRate) => (rate / 50) * 2;
/** Vonage promises 20 ms frames; anything from one sample to 200 ms is still taken. */
const maxFrameBytes = (rate: VonageRate) => frameBytes(rate) * 10;

const digit = z.enum(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#']);
const headerValue = z.string().max(256);
const connected = z
  .object({
    event: z.literal('websocket:connected'),
    'content-type': z.string().max(64),
  })
  .catchall(z.unknown());
/** One digit per event, documented as top-level `digit`; a `dtmf: {digit}` (or `digits`) object is accepted too. */
const dtmf = z.union([
  z.object({ event: z.literal('websocket:dtmf'), digit }).transform((m) => m.digit),
  z.object({ event: z.literal('websocket:dtmf'), dtmf: z.object({ digit }) }).transform((m) => m.dtmf.digit),
  z.object({ event: z.literal('websocket:dtmf'), dtmf: z.object({ digits: digit }) }).transform((m) => m.dtmf.digits),
]);
const notify = z.object({ event: z.literal('websocket:notify'), payload: z.object({ name: z.string().max(256).optional() }).optional() });

/** `audio/l16;rate=16000` → 16000; null for anything Toneguard does not run. */
export function rateOf(contentType: string): VonageRate | null {
  const match = /^audio\/l16;\s*rate=(\d+)$/i.exec(contentType.trim());
  const rate = match ? Number(match[1]) : NaN;
  return rate === 8000 || rate === 16000 ? rate : null;
}

/** The headers echoed in `websocket:connected`: string values only, bounded, minus the event fields. */
function headersOf(message: Record<string, unknown>): Record<string, string> | null {
  const headers: Record<string, string> = {};
  let count = 0;
  for (const [name, value] of Object.entries(message)) {
    if (name === 'event' || name === 'content-type') continue;
    if (typeof value !== 'string' || name.length > 64 || !headerValue.safeParse(value).success) continue;
    if (++count > 16) return null;
    headers[name] = value;
  }
  return headers;
}

/**
 * Parses one Vonage media socket: the text start, then binary audio and text events. Audio
 * bytes are handed on as received (a view of the message). Never throws; a refusal names a
 * reason, never the payload.
 */
export class VonageInbound {
  private rate: VonageRate | undefined;

  parse(data: Uint8Array, isBinary: boolean): VonageParsed {
    if (isBinary) return this.audio(data);
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
    } catch {
      return { ok: false, reason: 'invalid_json' };
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) return { ok: false, reason: 'invalid_message' };
    switch ((json as { event?: unknown }).event) {
      case 'websocket:connected':
        return this.start(json);
      case 'websocket:dtmf': {
        if (!this.rate) return { ok: false, reason: 'media_before_start' };
        const parsed = dtmf.safeParse(json);
        return parsed.success ? { ok: true, event: { kind: 'dtmf', key: parsed.data } } : { ok: false, reason: 'invalid_message' };
      }
      case 'websocket:cleared':
        return { ok: true, event: { kind: 'ack' } };
      case 'websocket:notify': {
        const parsed = notify.safeParse(json);
        return parsed.success ? { ok: true, event: { kind: 'ack', name: parsed.data.payload?.name } } : { ok: false, reason: 'invalid_message' };
      }
      default:
        return { ok: false, reason: 'unknown_event' };
    }
  }

  private start(json: unknown): VonageParsed {
    if (this.rate) return { ok: false, reason: 'duplicate_start' };
    const parsed = connected.safeParse(json);
    if (!parsed.success) return { ok: false, reason: 'invalid_message' };
    const rate = rateOf(parsed.data['content-type']);
    const headers = headersOf(parsed.data);
    const legCallId = headers?.[CALL_HEADER];
    if (!rate || !headers || !legCallId) return { ok: false, reason: 'invalid_message' };
    this.rate = rate;
    const { [CALL_HEADER]: _call, ...parameters } = headers;
    return { ok: true, event: { kind: 'start', start: { legCallId, streamId: legCallId, sampleRate: rate, parameters } } };
  }

  private audio(data: Uint8Array): VonageParsed {
    if (!this.rate) return { ok: false, reason: 'media_before_start' };
    if (data.length < 2 || data.length % 2 !== 0 || data.length > maxFrameBytes(this.rate)) return { ok: false, reason: 'frame_size' };
    return { ok: true, event: { kind: 'audio', bytes: data } };
  }
}

/** Text commands to Vonage: flush its playback buffer; ask it to report when playback reaches here. */
export const clearCommand = () => '{"action":"clear"}';
export const notifyCommand = (name: string) => JSON.stringify({ action: 'notify', payload: { name } });

/**
 * Outbound audio as exact 20 ms binary frames (Vonage requires 320 or 640 bytes): a shorter frame
 * is padded with silence, a longer one is refused (the bridge forwards frames as they came, 20 ms).
 * One reused buffer: `release()` when the socket still holds the last frame.
 */
export class VonageOutbound {
  readonly frameBytes: number;
  private buffer: Buffer;

  constructor(rate: VonageRate) {
    this.frameBytes = frameBytes(rate);
    this.buffer = Buffer.alloc(this.frameBytes);
  }

  audio(samples: Int16Array): Buffer | undefined {
    if (samples.length * 2 > this.frameBytes) return undefined;
    const out = this.buffer;
    let b = 0;
    for (let i = 0; i < samples.length; i++, b += 2) out.writeInt16LE(samples[i], b);
    out.fill(0, b);
    return out;
  }

  release(): void {
    this.buffer = Buffer.alloc(this.frameBytes);
  }
}
