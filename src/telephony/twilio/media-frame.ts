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
const TOP_KEYS: [Uint8Array, Field][] = [
  [keyCodes('event'), Field.Event],
  [keyCodes('sequenceNumber'), Field.SequenceNumber],
  [keyCodes('streamSid'), Field.StreamSid],
  [keyCodes('media'), Field.Media],
];
const MEDIA_KEYS: [Uint8Array, Field][] = [
  [keyCodes('track'), Field.Track],
  [keyCodes('chunk'), Field.Chunk],
  [keyCodes('timestamp'), Field.Timestamp],
  [keyCodes('payload'), Field.Payload],
];
const MEDIA_EVENT = keyCodes('media');

function keyAt(bytes: Uint8Array, start: number, end: number, keys: [Uint8Array, Field][]): number {
  const length = end - start;
  for (const [name, field] of keys) {
    if (name.length !== length) continue;
    let i = 0;
    while (i < length && bytes[start + i] === name[i]) i++;
    if (i === length) return field;
  }
  return 0;
}

/**
 * Index of the quote closing the JSON string opened at `at`, or -1 (what lies between is checked
 * by its reader). Keys and short values are scanned here: a native `indexOf` costs more to call
 * than it saves on a few bytes; the long payload is searched natively.
 */
function shortStringEnd(bytes: Uint8Array, at: number): number {
  for (let i = at + 1; i < bytes.length; i++) if (bytes[i] === QUOTE) return i;
  return -1;
}
const longStringEnd = (bytes: Uint8Array, at: number): number => bytes.indexOf(QUOTE, at + 1);

/** True when `bytes[start, end)` is printable ASCII without a backslash: the string means its bytes, no escapes. */
function plainText(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    if (b < 0x20 || b > 0x7e || b === BACKSLASH) return false;
  }
  return true;
}

/** `/^[A-Za-z0-9_-]{1,64}$/`, the stream id schema. */
function streamSidValid(bytes: Uint8Array, start: number, end: number): boolean {
  if (end - start < 1 || end - start > 64) return false;
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    const ok = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x5f || b === 0x2d;
    if (!ok) return false;
  }
  return true;
}

function sameBytes(bytes: Uint8Array, start: number, end: number, expected: Uint8Array): boolean {
  if (end - start !== expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (bytes[start + i] !== expected[i]) return false;
  return true;
}

/**
 * Reads a plain Twilio `media` message and decodes its payload into `into` (at most
 * `into.length` bytes, at least one). Returns the byte count, or NOT_FAST when the message is
 * anything else, or anything `parseTwilioMessage` and the payload checks might refuse.
 */
export function readMediaFrame(bytes: Uint8Array, into: Uint8Array): number {
  let seen = 0;
  let payloadStart = 0;
  let payloadEnd = 0;
  let depth = 0;
  let i = 0;
  if (bytes[i++] !== OPEN) return NOT_FAST;
  for (;;) {
    if (bytes[i] !== QUOTE) return NOT_FAST;
    const keyEnd = shortStringEnd(bytes, i);
    if (keyEnd < 0 || bytes[keyEnd + 1] !== COLON) return NOT_FAST;
    const field = keyAt(bytes, i + 1, keyEnd, depth === 0 ? TOP_KEYS : MEDIA_KEYS);
    if (field === 0 || (seen & field) !== 0) return NOT_FAST;
    seen |= field;
    i = keyEnd + 2;
    if (field === Field.Media) {
      if (bytes[i] !== OPEN) return NOT_FAST;
      depth = 1;
      i++;
      continue;
    }
    if (bytes[i] !== QUOTE) return NOT_FAST;
    const valueStart = i + 1;
    const valueEnd = field === Field.Payload ? longStringEnd(bytes, i) : shortStringEnd(bytes, i);
    if (valueEnd < 0) return NOT_FAST;
    const length = valueEnd - valueStart;
    // The payload's bytes are checked as base64 (which has no quote, backslash or control character).
    if (field !== Field.Payload && !plainText(bytes, valueStart, valueEnd)) return NOT_FAST;
    switch (field) {
      case Field.Event:
        if (!sameBytes(bytes, valueStart, valueEnd, MEDIA_EVENT)) return NOT_FAST;
        break;
      case Field.StreamSid:
        if (!streamSidValid(bytes, valueStart, valueEnd)) return NOT_FAST;
        break;
      case Field.Track:
        if (length > 32) return NOT_FAST;
        break;
      case Field.Payload:
        payloadStart = valueStart;
        payloadEnd = valueEnd;
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
  const n = decodeBase64Into(bytes, payloadStart, payloadEnd, into);
  return n >= 1 ? n : NOT_FAST;
}

/** Outbound `media` messages in one reused buffer: the same text as `twilioMediaMessage`, without a string per frame. */
export function mediaMessageWriter(streamSid: string, maxBytes: number): Base64FrameWriter {
  return new Base64FrameWriter(twilioMediaMessage(streamSid, '\0'), maxBytes);
}
