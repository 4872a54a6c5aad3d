import { z } from 'zod';
import { decodeL16, encodeL16 } from '../../dsp/index.js';
import { Base64FrameWriter } from '../base64-frame-writer.js';
import type { ParsedMediaMessage, SampleRate, StreamStart } from '../../media/types.js';
import type { MediaWire, WireEncoder, WireSession } from '../media-socket.js';

/** Longest accepted frame: 200 ms of 16 kHz L16 (jambonz sends 20 ms; the size is not promised). */
const MAX_FRAME_MS = 200;
const maxFrameBytes = (rate: SampleRate) => (rate * MAX_FRAME_MS * 2) / 1000;
const MAX_BYTES = maxFrameBytes(16000);

/** The parameters Toneguard writes into `listen.metadata` and reads back at the start. */
const PARAMETERS = ['leg', 'agent', 'credential'] as const;
const parameter = z.string().max(256);
const id = z.string().regex(/^[A-Za-z0-9-]{1,64}$/);

/**
 * The socket's first text message: the call's attributes, `sampleRate` and `mixType`, with our
 * metadata merged in at the top (jambonz-feature-server `lib/tasks/listen.js`:
 * `Object.assign({sampleRate, mixType}, callInfo, metadata)`). A nested `metadata` object is
 * read too, in case a release sends it unmerged.
 */
const metadata = z.object({
  callSid: id,
  sampleRate: z.union([z.number(), z.string().max(8)]),
  mixType: z.string().max(16).optional(),
  leg: parameter.optional(),
  agent: parameter.optional(),
  credential: parameter.optional(),
  metadata: z.object({ leg: parameter.optional(), agent: parameter.optional(), credential: parameter.optional() }).optional(),
});
const digit = z.enum(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#']);
/** `{event:'dtmf', dtmf, duration}` (listen.js `_onDtmf`); `digit` is read as well. */
const dtmf = z.union([z.object({ event: z.literal('dtmf'), dtmf: digit }), z.object({ event: z.literal('dtmf'), digit })]);
/** mod_audio_fork reports each mark as played out or cleared: `{type:'mark', data:{name, event}}`. */
const mark = z.object({ type: z.literal('mark'), data: z.object({ name: z.string().max(256), event: z.string().max(16).optional() }) });
/** Acknowledgements that need nothing from us. */
const ACKNOWLEDGEMENTS = new Set(['playDone']);

function readJson(data: Buffer): Record<string, unknown> | 'invalid_json' | 'invalid_message' {
  let json: unknown;
  try {
    json = JSON.parse(data.toString('utf8'));
  } catch {
    return 'invalid_json';
  }
  return typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : 'invalid_message';
}

/**
 * One jambonz `listen` socket: a text metadata message, then binary L16 (little-endian, host
 * order in mod_audio_fork) at the listen's sample rate, with text messages for keys and marks.
 */
class JambonzSession implements WireSession {
  private rate: SampleRate | undefined;
  private readonly samples = new Int16Array(MAX_BYTES / 2);

  constructor(private readonly streaming: boolean) {}

  parse(data: Buffer, isBinary: boolean): ParsedMediaMessage {
    if (isBinary) return this.audio(data);
    const json = readJson(data);
    if (typeof json === 'string') return { ok: false, reason: json };
    if ('callSid' in json) return this.start(json);
    if (json.event === 'dtmf') {
      const event = dtmf.safeParse(json);
      if (!event.success) return { ok: false, reason: 'invalid_message' };
      if (!this.rate) return { ok: false, reason: 'media_before_start' };
      return { ok: true, event: { kind: 'dtmf', key: 'dtmf' in event.data ? event.data.dtmf : event.data.digit } };
    }
    if (json.type === 'mark') {
      const event = mark.safeParse(json);
      return event.success ? { ok: true, event: { kind: 'mark', name: event.data.data.name } } : { ok: false, reason: 'invalid_message' };
    }
    if (typeof json.type === 'string' && ACKNOWLEDGEMENTS.has(json.type)) return { ok: true, event: { kind: 'connected' } };
    return { ok: false, reason: 'unknown_event' };
  }

  private start(json: Record<string, unknown>): ParsedMediaMessage {
    const event = metadata.safeParse(json);
    if (!event.success) return { ok: false, reason: 'invalid_message' };
    if (this.rate) return { ok: false, reason: 'duplicate_start' };
    const rate = Number(event.data.sampleRate);
    // A stereo or mixed fork would carry both directions, our own audio included: only mono is run.
    if ((rate !== 8000 && rate !== 16000) || (event.data.mixType ?? 'mono') !== 'mono') return { ok: false, reason: 'unsupported_format' };
    this.rate = rate;
    const parameters: Record<string, string> = {};
    for (const name of PARAMETERS) {
      const value = event.data[name] ?? event.data.metadata?.[name];
      if (value !== undefined) parameters[name] = value;
    }
    const start: StreamStart = { legCallId: event.data.callSid, streamId: event.data.callSid, format: { encoding: 'l16', sampleRate: rate }, parameters };
    return { ok: true, event: { kind: 'start', start } };
  }

  private audio(data: Buffer): ParsedMediaMessage {
    if (!this.rate) return { ok: false, reason: 'media_before_start' };
    if (data.length < 2 || data.length % 2 !== 0 || data.length > maxFrameBytes(this.rate)) return { ok: false, reason: 'frame_size' };
    const samples = this.samples.subarray(0, data.length / 2);
    decodeL16(data, samples);
    return { ok: true, event: { kind: 'audio', samples } };
  }

  encoder(start: StreamStart): WireEncoder {
    const rate = start.format.sampleRate;
    return this.streaming ? new StreamingEncoder(rate) : new PlayAudioEncoder(rate);
  }
}

const MARK = (name: string) => JSON.stringify({ type: 'mark', data: { name } });
const KILL_AUDIO = '{"type":"killAudio"}';

/** `bidirectionalAudio.streaming`: binary L16 frames; marks ride along, `killAudio` flushes (and clears pending marks). */
class StreamingEncoder implements WireEncoder {
  readonly binary = true;
  readonly frameMessageBytes: number;
  private readonly limit: number;
  private buffer: Buffer;

  constructor(rate: SampleRate) {
    this.limit = maxFrameBytes(rate);
    this.frameMessageBytes = (rate / 50) * 2;
    this.buffer = Buffer.alloc(this.limit);
  }

  audio(samples: Int16Array): Buffer | undefined {
    const n = samples.length * 2;
    if (n === 0 || n > this.limit) return undefined;
    const frame = this.buffer.subarray(0, n);
    encodeL16(samples, frame);
    return frame;
  }

  mark = MARK;
  clear = () => KILL_AUDIO;

  release(): void {
    this.buffer = Buffer.alloc(this.limit);
  }
}

/**
 * Without streaming, jambonz plays only whole files: each outbound chunk becomes one queued
 * `playAudio` of raw L16. It works, with a file's delay per chunk; streaming is the default.
 */
class PlayAudioEncoder implements WireEncoder {
  readonly binary = false;
  readonly frameMessageBytes: number;
  private readonly limit: number;
  private readonly bytes: Uint8Array;
  private readonly writer: Base64FrameWriter;

  constructor(rate: SampleRate) {
    this.limit = maxFrameBytes(rate);
    this.bytes = new Uint8Array(this.limit);
    this.writer = new Base64FrameWriter(`{"type":"playAudio","data":{"audioContentType":"raw","sampleRate":${rate},"queuePlay":true,"audioContent":"\0"}}`, this.limit);
    this.frameMessageBytes = this.writer.messageBytes((rate / 50) * 2);
  }

  audio(samples: Int16Array): Buffer | undefined {
    const n = samples.length * 2;
    if (n === 0 || n > this.limit) return undefined;
    encodeL16(samples, this.bytes.subarray(0, n));
    return this.writer.message(this.bytes, n);
  }

  mark = MARK;
  clear = () => KILL_AUDIO;

  release(): void {
    this.writer.detach();
  }
}

export function jambonzWire(options: { streaming: boolean }): MediaWire {
  return { session: () => new JambonzSession(options.streaming) };
}
