import { decodeBase64Into } from '../../media/base64.js';
import { Base64FrameWriter } from '../base64-frame-writer.js';
import { twilioMediaMessage } from './media-messages.js';

/**
 * The per-frame fast path for Twilio `media` messages, on the raw bytes: no string, no object,
 * no schema. It recognises only the plain shape Twilio sends (no whitespace, no escapes, known
 * keys once each, string values of printable ASCII) with a valid payload, and decodes that payload
 * in place. Everything else goes to `parseTwilioMessage`, which accepts or refuses it exactly as
 * before: the fast path can only say "yes, and these are the bytes" for a frame the schema accepts.
 */
export const NOT_FAST = -1;

const QUOTE = 0x22;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const BACKSLASH = 0x5c;

/** The fields `parseTwilioMessage`'s media schema knows, with their limits. */
const enum Field {
  Event = 1,
  SequenceNumber = 2,
  StreamSid = 4,
  Media = 8,
  Track = 16,
  Chunk = 32,
  Timestamp = 64,
  Payload = 128,
}

const keyCodes = (key: string) => Uint8Array.from(key, (c) => c.charCodeAt(0));

interface Key {
  name: Uint8Array;
  field: Field;
}
const knownKey = (name: string, field: Field): Key => ({ name: keyCodes(name), field });
const TOP_KEYS: Key[] = [knownKey('event', Field.Event), knownKey('sequenceNumber', Field.SequenceNumber), knownKey('streamSid', Field.StreamSid), knownKey('media', Field.Media)];
const MEDIA_KEYS: Key[] = [knownKey('track', Field.Track), knownKey('chunk', Field.Chunk), knownKey('timestamp', Field.Timestamp), knownKey('payload', Field.Payload)];
const MEDIA_EVENT = keyCodes('media');

/**
 * The key whose quoted name opens at `at` and is followed by a colon, when it is one of `keys`.
 * Comparing a name's bytes also finds where the key ends, so each key is read once.
 */
function keyAt(bytes: Uint8Array, at: number, keys: Key[]): Key | undefined {
  for (let k = 0; k < keys.length; k++) {
    const { name } = keys[k];
    const end = at + 1 + name.length;
    if (bytes[end] !== QUOTE || bytes[end + 1] !== COLON) continue;
    let i = 0;
    while (i < name.length && bytes[at + 1 + i] === name[i]) i++;
    if (i === name.length) return keys[k];
  }
  return undefined;
}

/** Byte classes for one-lookup checks: printable ASCII but the backslash (a string that means its bytes), and `[A-Za-z0-9_-]` (stream ids). */
const PLAIN = 1;
const SID = 2;
const CLASSES = new Uint8Array(256);
for (let b = 0x20; b <= 0x7e; b++) if (b !== BACKSLASH) CLASSES[b] |= PLAIN;
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-') CLASSES[c.charCodeAt(0)] |= SID;

/**
 * Index of the quote closing the JSON string opened at `at`, when every byte before it is of
 * `byteClass` (no escapes, so the string means its bytes); -1 otherwise. Keys and short values are
 * scanned here: a native `indexOf` costs more to call than it saves on a few bytes.
 */
function stringEnd(bytes: Uint8Array, at: number, byteClass: number): number {
  for (let i = at + 1; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === QUOTE) return i;
    if ((CLASSES[b] & byteClass) === 0) return -1;
  }
  return -1;
}
/** The payload is long and checked as base64 (which has no quote, backslash or control character) by its decoder: searched natively. */
const payloadEnd = (bytes: Uint8Array, at: number): number => bytes.indexOf(QUOTE, at + 1);

function sameBytes(bytes: Uint8Array, start: number, end: number, expected: Uint8Array): boolean {
  if (end - start !== expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (bytes[start + i] !== expected[i]) return false;
  return true;
}

/** Where the last frame `readMediaFrame` accepted had its payload's base64 text in the message. */
export interface PayloadSpan {
  start: number;
  end: number;
}

/**
 * Reads a plain Twilio `media` message and decodes its payload into `into` (at most
 * `into.length` bytes, at least one). Returns the byte count, or NOT_FAST when the message is
 * anything else, or anything `parseTwilioMessage` and the payload checks might refuse. On
 * success `span`, when given, says where the payload's text was.
 */
export function readMediaFrame(bytes: Uint8Array, into: Uint8Array, span?: PayloadSpan): number {
  let seen = 0;
  let payloadStart = 0;
  let payloadStop = 0;
  let depth = 0;
  let i = 0;
  if (bytes[i++] !== OPEN) return NOT_FAST;
  for (;;) {
    if (bytes[i] !== QUOTE) return NOT_FAST;
    const key = keyAt(bytes, i, depth === 0 ? TOP_KEYS : MEDIA_KEYS);
    if (key === undefined || (seen & key.field) !== 0) return NOT_FAST;
    const field = key.field;
    seen |= field;
    i += key.name.length + 3;
    if (field === Field.Media) {
      if (bytes[i] !== OPEN) return NOT_FAST;
      depth = 1;
      i++;
      continue;
    }
    if (bytes[i] !== QUOTE) return NOT_FAST;
    const valueStart = i + 1;
    const valueEnd = field === Field.Payload ? payloadEnd(bytes, i) : stringEnd(bytes, i, field === Field.StreamSid ? SID : PLAIN);
    if (valueEnd < 0) return NOT_FAST;
    const length = valueEnd - valueStart;
    switch (field) {
      case Field.Event:
        if (!sameBytes(bytes, valueStart, valueEnd, MEDIA_EVENT)) return NOT_FAST;
        break;
      case Field.StreamSid:
        // `/^[A-Za-z0-9_-]{1,64}$/`, the stream id schema (its bytes were checked by the scan).
        if (length < 1 || length > 64) return NOT_FAST;
        break;
      case Field.Track:
        if (length > 32) return NOT_FAST;
        break;
      case Field.Payload:
        payloadStart = valueStart;
        payloadStop = valueEnd;
        break;
      default:
        // sequenceNumber, chunk, timestamp: strings of at most 20.
        if (length > 20) return NOT_FAST;
    }
    i = valueEnd + 1;
    while (bytes[i] === CLOSE && depth >= 0) {
      depth--;
      i++;
    }
    if (depth < 0) break;
    if (bytes[i++] !== COMMA) return NOT_FAST;
  }
  if (i !== bytes.length || (seen & (Field.Event | Field.Media | Field.Payload)) !== (Field.Event | Field.Media | Field.Payload)) return NOT_FAST;
  const n = decodeBase64Into(bytes, payloadStart, payloadStop, into);
  if (n < 1) return NOT_FAST;
  if (span) {
    span.start = payloadStart;
    span.end = payloadStop;
  }
  return n;
}

/** Outbound `media` messages in one reused buffer: the same text as `twilioMediaMessage`, without a string per frame. */
export function mediaMessageWriter(streamSid: string, maxBytes: number): Base64FrameWriter {
  return new Base64FrameWriter(twilioMediaMessage(streamSid, '\0'), maxBytes);
}
