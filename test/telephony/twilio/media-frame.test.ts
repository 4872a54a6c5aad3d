import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64Into, encodeBase64Into, isCanonicalBase64 } from '../../../src/media/base64.js';
import type { InboundMediaEvent } from '../../../src/media/types.js';
import { mediaMessageWriter, NOT_FAST, readMediaFrame, type PayloadSpan } from '../../../src/telephony/twilio/media-frame.js';
import { parseTwilioMessage, twilioMediaMessage } from '../../../src/telephony/twilio/media-messages.js';
import { MAX_FRAME_BYTES, payloadRefusal, twilioWire } from '../../../src/telephony/twilio/wire.js';

const STREAM = 'MZ' + 'b'.repeat(32);

/** What the schema path makes of a message: the decoded frame, or null when it refuses it (or it is not audio). */
function throughSchema(text: string): Buffer | null {
  const parsed = parseTwilioMessage(text);
  if (!parsed.ok || parsed.event.kind !== 'audio' || payloadRefusal(parsed.event.payload)) return null;
  return Buffer.from(parsed.event.payload, 'base64');
}

function fast(text: string): Buffer | null {
  const into = new Uint8Array(MAX_FRAME_BYTES);
  const n = readMediaFrame(Buffer.from(text, 'utf8'), into);
  return n === NOT_FAST ? null : Buffer.from(into.subarray(0, n));
}

/** Printable ASCII around a length limit, or any text. */
const text = (limit: number) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: limit - 3, maxLength: limit + 2 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 6 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
  );
const payload = fc.oneof(
  { weight: 6, arbitrary: fc.uint8Array({ minLength: 0, maxLength: MAX_FRAME_BYTES + 4 }).map((b) => Buffer.from(b).toString('base64')) },
  { weight: 1, arbitrary: fc.base64String({ maxLength: 64 }) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9+/=\\"é -]{0,24}$/) },
);
/** Usually present and well-formed, sometimes missing or of another type. */
const field = <T>(arb: fc.Arbitrary<T>, other: fc.Arbitrary<unknown> = fc.oneof(fc.integer(), fc.constant(null))) =>
  fc.oneof({ weight: 6, arbitrary: arb }, { weight: 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: other });
/** Twilio-shaped media messages near every limit, keys in any order, sometimes an extra key. */
const mediaObject = fc.record({
  event: fc.constantFrom('media', 'media', 'media', 'media', 'Media', 'dtmf', ''),
  sequenceNumber: field(text(20)),
  streamSid: field(fc.oneof(fc.constant(STREAM), fc.stringMatching(/^[A-Za-z0-9_\-+]{0,66}$/))),
  media: field(
    fc.record({
      track: field(fc.oneof(fc.constant('inbound'), text(32))),
      chunk: field(text(20)),
      timestamp: field(text(20)),
      payload: field(payload),
      extra: fc.oneof({ weight: 1, arbitrary: fc.constant('x') }, { weight: 7, arbitrary: fc.constant(undefined) }),
    }),
  ),
  extra: fc.oneof({ weight: 1, arbitrary: fc.constantFrom('x', 'y') }, { weight: 7, arbitrary: fc.constant(undefined) }),
});
const shuffled = (o: Record<string, unknown>) =>
  fc.shuffledSubarray(Object.keys(o), { minLength: Object.keys(o).length }).map((keys) => {
    const out: Record<string, unknown> = {};
    for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
    return out;
  });
const mediaText = mediaObject.chain(shuffled).map((o) => JSON.stringify(o));
/** Small edits of a message: whitespace, a changed or removed character, a duplicated key, trailing text. */
const mutated = fc.tuple(mediaText, fc.nat(), fc.constantFrom(' ', '\n', '"', '\\', '}', ',', 'x', '', '{"event":"media",', '\u00e9')).map(([text, at, insert]) => {
  const i = at % (text.length + 1);
  return text.slice(0, i) + insert + text.slice(i + (insert === '' ? 1 : at % 2));
});

describe('the media frame fast path', () => {
  it('accepts only what the schema and payload checks accept, with the same bytes', () => {
    fc.assert(
      fc.property(fc.oneof(mediaText, mutated, fc.string({ unit: 'binary', maxLength: 300 })), (text) => {
        const quick = fast(text);
        if (quick) expect(throughSchema(text)).toEqual(quick);
      }),
      { numRuns: 5000 },
    );
  });

  it("takes Twilio's own frames (the shape the schema accepts, as Twilio sends them)", () => {
    const frame = (bytes: Uint8Array) =>
      JSON.stringify({ event: 'media', sequenceNumber: '3', media: { track: 'inbound', chunk: '1', timestamp: '20', payload: Buffer.from(bytes).toString('base64') }, streamSid: STREAM });
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: MAX_FRAME_BYTES }), (bytes) => {
        expect(fast(frame(bytes))).toEqual(Buffer.from(bytes));
      }),
      { numRuns: 500 },
    );
    // Refused by the schema path, so never by the fast one either: they go the schema's way.
    for (const text of [frame(new Uint8Array(0)), frame(new Uint8Array(MAX_FRAME_BYTES + 1)), '{"event":"media","media":{"payload":"AAA"}}', '{"event":"media","media":{"payload":"AA=A"}}']) {
      expect(fast(text)).toBeNull();
      expect(throughSchema(text)).toBeNull();
    }
  });

  it('decodes and encodes base64 as Buffer does', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const text = Buffer.alloc(600);
        const end = encodeBase64Into(bytes, bytes.length, text, 0);
        expect(text.toString('latin1', 0, end)).toBe(Buffer.from(bytes).toString('base64'));
        const back = new Uint8Array(400);
        expect(Buffer.from(back.subarray(0, decodeBase64Into(text, 0, end, back)))).toEqual(Buffer.from(bytes));
      }),
    );
  });

  it('builds the same outbound message as twilioMediaMessage, in a reused buffer', () => {
    const writer = mediaMessageWriter(STREAM, MAX_FRAME_BYTES);
    for (const n of [160, 160, 1, 2, 3, MAX_FRAME_BYTES]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 255);
      expect(writer.message(bytes, n).toString('latin1')).toBe(twilioMediaMessage(STREAM, Buffer.from(bytes).toString('base64')));
    }
    const first = writer.message(new Uint8Array(160), 160);
    writer.detach();
    expect(writer.message(new Uint8Array(160).fill(1), 160).buffer).not.toBe(first.buffer);
    expect(first.toString('latin1')).toBe(twilioMediaMessage(STREAM, Buffer.alloc(160).toString('base64')));
  });

  it('says where the payload text was, and writes a message around text as it came', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: MAX_FRAME_BYTES }), (bytes) => {
        const payload = Buffer.from(bytes).toString('base64');
        const message = Buffer.from(JSON.stringify({ event: 'media', streamSid: STREAM, media: { track: 'inbound', payload } }));
        const span: PayloadSpan = { start: 0, end: 0 };
        expect(readMediaFrame(message, new Uint8Array(MAX_FRAME_BYTES), span)).toBe(bytes.length);
        expect(message.toString('latin1', span.start, span.end)).toBe(payload);
        const writer = mediaMessageWriter(STREAM, MAX_FRAME_BYTES);
        expect(writer.messageWithBase64(message, span.start, span.end).toString('latin1')).toBe(twilioMediaMessage(STREAM, payload));
      }),
      { numRuns: 300 },
    );
  });

  it('knows canonical base64 from text whose leftover bits are set', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const text = Buffer.from(Buffer.from(bytes).toString('base64'));
        expect(isCanonicalBase64(text, 0, text.length)).toBe(true);
      }),
    );
    // "AB==" and "AAB=" decode (as Buffer decodes them) to bytes whose own text is "AA==" and "AAA=".
    for (const [odd, canonical] of [['AB==', 'AA=='], ['AAB=', 'AAA=']]) {
      expect(isCanonicalBase64(Buffer.from(odd), 0, 4)).toBe(false);
      expect(Buffer.from(odd, 'base64').toString('base64')).toBe(canonical);
    }
  });
});

describe('the Twilio wire forwards a frame as it came', () => {
  const OUT = 'MZ' + 'c'.repeat(32);
  const start = JSON.stringify({ event: 'start', sequenceNumber: '1', streamSid: STREAM, start: { streamSid: STREAM, accountSid: 'AC' + '0'.repeat(32), callSid: 'CA' + '1'.repeat(32), tracks: ['inbound'], customParameters: {}, mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } } });
  const media = (payload: string) => Buffer.from(JSON.stringify({ event: 'media', sequenceNumber: '2', streamSid: STREAM, media: { track: 'inbound', chunk: '1', timestamp: '20', payload } }));

  /** The outbound message another stream of the wire sends when offered what `message` parsed to. */
  function relayed(message: Buffer): string {
    const session = twilioWire.session();
    const started = session.parse(Buffer.from(start), false);
    if (!started.ok || started.event.kind !== 'start') throw new Error('start refused');
    const parsed = session.parse(message, false);
    if (!parsed.ok || parsed.event.kind !== 'audio') throw new Error('frame refused');
    const audio = parsed.event as Extract<InboundMediaEvent, { kind: 'audio' }>;
    const encoder = twilioWire.session().encoder({ ...started.event.start, streamId: OUT });
    return String(encoder.audio(audio.samples, audio.encoded));
  }

  it('sends the very message encoding the samples would give, for any frame', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 400 }), (bytes) => {
        const payload = Buffer.from(bytes).toString('base64');
        expect(relayed(media(payload))).toBe(twilioMediaMessage(OUT, payload));
      }),
      { numRuns: 300 },
    );
  });

  it('encodes a frame whose text is not canonical afresh, never forwarding the odd text', () => {
    expect(relayed(media('AAAAAB=='))).toBe(twilioMediaMessage(OUT, 'AAAAAA=='));
    expect(relayed(media('AAAAAAB='))).toBe(twilioMediaMessage(OUT, 'AAAAAAA='));
  });
});
