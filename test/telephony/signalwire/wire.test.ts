import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { encodeL16 } from '../../../src/dsp/index.js';
import { parseStreamTwiml } from '../../../src/simulator/index.js';
import { connectStreamCxml } from '../../../src/telephony/signalwire/cxml.js';
import { parseSignalWireMessage } from '../../../src/telephony/signalwire/media-messages.js';
import { SIGNALWIRE_WIRE } from '../../../src/telephony/signalwire/index.js';

const CALL = randomUUID();
const STREAM = randomUUID();
const startMessage = (mediaFormat: object, top: object = { streamSid: STREAM }) => ({
  event: 'start',
  sequenceNumber: '1',
  ...top,
  start: { streamSid: STREAM, accountSid: randomUUID(), callSid: CALL, tracks: ['inbound'], customParameters: { leg: 'caller', credential: 'c' }, mediaFormat },
});

describe('SignalWire stream messages', () => {
  it('reads a PCMU start, plain or inside the documented rawEvent envelope, with the stream id inside start only', () => {
    const plain = startMessage({ encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }, {});
    const expected = { ok: true, event: { kind: 'start', start: { callSid: CALL, streamSid: STREAM, parameters: { leg: 'caller', credential: 'c' }, format: { encoding: 'pcmu', sampleRate: 8000 } } } };
    expect(parseSignalWireMessage(JSON.stringify(plain))).toEqual(expected);
    const enveloped = { timestamp: 1, direction: 'inbound', eventType: 'start', streamSid: STREAM, sequenceNumber: 1, rawEvent: plain };
    expect(parseSignalWireMessage(JSON.stringify(enveloped))).toEqual(expected);
  });

  it('reads L16 at 16 kHz, refuses L16 at 24 kHz as unsupported_format and Twilio-style ids as invalid', () => {
    const l16 = parseSignalWireMessage(JSON.stringify(startMessage({ encoding: 'audio/x-L16', sampleRate: 16000, channels: 1 })));
    expect(l16).toMatchObject({ ok: true, event: { start: { format: { encoding: 'l16', sampleRate: 16000 } } } });
    expect(parseSignalWireMessage(JSON.stringify(startMessage({ encoding: 'audio/x-L16', sampleRate: 24000 })))).toEqual({ ok: false, reason: 'unsupported_format' });
    const twilioIds = { ...startMessage({ encoding: 'audio/x-mulaw', sampleRate: 8000 }), start: { callSid: `CA${'0'.repeat(32)}`, mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000 } } };
    expect(parseSignalWireMessage(JSON.stringify(twilioIds))).toEqual({ ok: false, reason: 'invalid_message' });
  });

  it('reads dtmf with its duration, marks and stops, like Twilio', () => {
    expect(parseSignalWireMessage(JSON.stringify({ event: 'dtmf', streamSid: STREAM, dtmf: { duration: 2700, digit: '8' } }))).toEqual({ ok: true, event: { kind: 'dtmf', key: '8' } });
    expect(parseSignalWireMessage('{"event":"stop"}')).toEqual({ ok: true, event: { kind: 'stop' } });
  });

  it('never throws on any text or JSON, and answers an event or a reason code', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.json().map((j) => `{"rawEvent":${j}}`)), (text) => {
        const parsed = parseSignalWireMessage(text);
        expect(typeof parsed.ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });

  it('decodes L16 media into samples at the stream rate and encodes the way back (little-endian, unconfirmed)', () => {
    const session = SIGNALWIRE_WIRE.session();
    const started = session.parse(Buffer.from(JSON.stringify(startMessage({ encoding: 'audio/x-L16', sampleRate: 16000 }))), false);
    expect(started.ok).toBe(true);
    const samples = Int16Array.from({ length: 320 }, (_, i) => (i * 97) % 30000 - 15000);
    const bytes = new Uint8Array(640);
    encodeL16(samples, bytes);
    const media = { event: 'media', sequenceNumber: '2', streamSid: STREAM, media: { track: 'inbound', chunk: '1', timestamp: '20', payload: Buffer.from(bytes).toString('base64') } };
    const audio = session.parse(Buffer.from(JSON.stringify(media)), false);
    expect(audio.ok && audio.event.kind === 'audio' && [...audio.event.samples]).toEqual([...samples]);
    const odd = { ...media, media: { ...media.media, payload: Buffer.alloc(641).toString('base64') } };
    expect(session.parse(Buffer.from(JSON.stringify(odd)), false)).toEqual({ ok: false, reason: 'frame_size' });
    const encoder = session.encoder({ legCallId: CALL, streamId: STREAM, format: { encoding: 'l16', sampleRate: 16000 }, parameters: {} });
    const out = JSON.parse(String(encoder.audio(samples))) as { event: string; streamSid: string; media: { payload: string } };
    expect(out).toMatchObject({ event: 'media', streamSid: STREAM });
    expect(Buffer.from(out.media.payload, 'base64')).toEqual(Buffer.from(bytes));
  });
});

describe('SignalWire signatures and cXML', () => {
  const sdk = createRequire(import.meta.url)('@signalwire/compatibility-api') as {
    RestClient: { validateRequest: (key: string, signature: string, url: string, params: Record<string, string>) => boolean };
  };

  it("SignalWire's SDK accepts the Twilio algorithm keyed with the signing key, with or without the default port, and nothing else", () => {
    const key = 'PSK_0123456789abcdef';
    const params = { CallSid: CALL, From: '+15005550006', To: '+15005550001', CallStatus: 'ringing' };
    const url = 'https://toneguard.example/signalwire/voice/inbound';
    const signature = twilio.getExpectedTwilioSignature(key, url, params);
    expect(sdk.RestClient.validateRequest(key, signature, url, params)).toBe(true);
    expect(sdk.RestClient.validateRequest(key, twilio.getExpectedTwilioSignature(key, 'https://toneguard.example:443/signalwire/voice/inbound', params), url, params)).toBe(true);
    expect(sdk.RestClient.validateRequest('another-key', signature, url, params)).toBe(false);
    expect(sdk.RestClient.validateRequest(key, signature, url, { ...params, From: '+15005550007' })).toBe(false);
  });

  it('writes a stream document the simulator (and SignalWire) reads back, escaping what it writes', () => {
    const cxml = connectStreamCxml({ publicUrl: 'https://toneguard.example', parameters: { leg: 'agent', agent: 'a"<&>b', credential: 'x.y-z' }, bearerToken: 't.k', codec: 'L16@16000h', statusCallback: 'https://toneguard.example/signalwire/status/stream' });
    expect(cxml).toContain('codec="L16@16000h"');
    expect(cxml).toContain('agent" value="a&#34;&#60;&#38;&#62;b"');
    const read = parseStreamTwiml(cxml)!;
    expect(read.url).toBe('wss://toneguard.example/media/signalwire');
    expect(read.attributes).toMatchObject({ codec: 'L16@16000h', realtime: 'true', authBearerToken: 't.k', statusCallbackMethod: 'POST' });
    expect(read.parameters.credential).toBe('x.y-z');
  });
});
