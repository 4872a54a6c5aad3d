import { z } from 'zod';
import type { InboundMediaEvent, MediaRejectReason, StreamFormat } from '../../media/types.js';

/** A Twilio-format stream start as it arrives. */
export interface TwilioStart {
  callSid: string;
  streamSid: string;
  /** The TwiML `<Parameter>`s. */
  parameters: Readonly<Record<string, string>>;
  /** Absent for Twilio (μ-law at 8 kHz is the only format Media Streams sends); a compatible platform's dialect sets it. */
  format?: StreamFormat;
}

/** Reads a dialect's `start` message: the start, or a reason to refuse it. */
export type StartReader = (json: object) => TwilioStart | MediaRejectReason;

/** One Twilio Media Streams message, validated; audio stays base64 until the wire decodes it into its buffer. */
export type TwilioEvent = Exclude<InboundMediaEvent, { kind: 'start' | 'audio' }> | { kind: 'start'; start: TwilioStart } | { kind: 'audio'; payload: string };

export type ParsedTwilioMessage = { ok: true; event: TwilioEvent } | { ok: false; reason: MediaRejectReason };

/** Twilio sends numeric fields as strings; accept either, we ignore their values anyway. */
export const numeric = z.union([z.string().max(20), z.number()]);
const sid = z.string().regex(/^[A-Z]{2}[0-9a-fA-F]{32}$/);
export const streamSid = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

const connected = z.object({ event: z.literal('connected') });
const start = z.object({
  event: z.literal('start'),
  sequenceNumber: numeric.optional(),
  streamSid,
  start: z.object({
    accountSid: sid.optional(),
    streamSid: streamSid.optional(),
    callSid: sid,
    tracks: z.array(z.string().max(32)).max(4).optional(),
    mediaFormat: z.object({ encoding: z.literal('audio/x-mulaw'), sampleRate: z.literal(8000), channels: z.literal(1) }),
    customParameters: z.record(z.string().max(64), z.string().max(256)).default({}),
  }),
});
/** base64 of μ-law bytes; the size check happens on the decoded length. */
const media = z.object({
  event: z.literal('media'),
  sequenceNumber: numeric.optional(),
  streamSid: streamSid.optional(),
  media: z.object({
    track: z.string().max(32).optional(),
    chunk: numeric.optional(),
    timestamp: numeric.optional(),
    payload: z.string(),
  }),
});
const dtmf = z.object({
  event: z.literal('dtmf'),
  dtmf: z.object({ track: z.string().max(32).optional(), digit: z.enum(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#']) }),
});
const mark = z.object({ event: z.literal('mark'), mark: z.object({ name: z.string().max(256) }) });
const stop = z.object({ event: z.literal('stop') });

const KNOWN_EVENTS = new Set(['connected', 'start', 'media', 'dtmf', 'mark', 'stop']);

const twilioStart: StartReader = (json) => {
  const parsed = start.safeParse(json);
  if (!parsed.success) return 'invalid_message';
  const { callSid, customParameters } = parsed.data.start;
  return { callSid, streamSid: parsed.data.streamSid, parameters: customParameters };
};

/** One text message as a JSON object, or the reason it is none. */
export function jsonObject(text: string): object | MediaRejectReason {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return 'invalid_json';
  }
  return typeof json !== 'object' || json === null || Array.isArray(json) ? 'invalid_message' : json;
}

/**
 * Parses one Twilio Media Streams text message, or gives a reason code.
 * Never throws; the payload is never echoed into the result of a failure.
 */
export function parseTwilioMessage(text: string): ParsedTwilioMessage {
  const json = jsonObject(text);
  return typeof json === 'string' ? { ok: false, reason: json } : parseTwilioFormat(json, twilioStart);
}

/** A parsed Twilio-format message (Twilio's events and fields; the dialect reads its own `start`). */
export function parseTwilioFormat(json: object, readStart: StartReader): ParsedTwilioMessage {
  const event = (json as { event?: unknown }).event;
  if (typeof event !== 'string' || !KNOWN_EVENTS.has(event)) return { ok: false, reason: 'unknown_event' };
  switch (event) {
    case 'media': {
      const parsed = media.safeParse(json);
      return parsed.success ? { ok: true, event: { kind: 'audio', payload: parsed.data.media.payload } } : { ok: false, reason: 'invalid_message' };
    }
    case 'start': {
      const read = readStart(json);
      return typeof read === 'string' ? { ok: false, reason: read } : { ok: true, event: { kind: 'start', start: read } };
    }
    case 'dtmf': {
      const parsed = dtmf.safeParse(json);
      return parsed.success ? { ok: true, event: { kind: 'dtmf', key: parsed.data.dtmf.digit } } : { ok: false, reason: 'invalid_message' };
    }
    case 'mark': {
      const parsed = mark.safeParse(json);
      return parsed.success ? { ok: true, event: { kind: 'mark', name: parsed.data.mark.name } } : { ok: false, reason: 'invalid_message' };
    }
    case 'stop':
      return stop.safeParse(json).success ? { ok: true, event: { kind: 'stop' } } : { ok: false, reason: 'invalid_message' };
    default:
      return connected.safeParse(json).success ? { ok: true, event: { kind: 'connected' } } : { ok: false, reason: 'invalid_message' };
  }
}

/** Outbound messages, built as strings: the stream id is validated at `start`, and base64 needs no escaping. */
export function twilioMediaMessage(streamSidValue: string, payloadBase64: string): string {
  return `{"event":"media","streamSid":"${streamSidValue}","media":{"payload":"${payloadBase64}"}}`;
}

export function twilioMarkMessage(streamSidValue: string, name: string): string {
  return JSON.stringify({ event: 'mark', streamSid: streamSidValue, mark: { name } });
}

export function twilioClearMessage(streamSidValue: string): string {
  return `{"event":"clear","streamSid":"${streamSidValue}"}`;
}
