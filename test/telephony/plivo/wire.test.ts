import fc from 'fast-check';
import plivo from 'plivo';
import { describe, expect, it } from 'vitest';
import { decodeL16, decodeMulaw, encodeL16, encodeMulaw } from '../../../src/dsp/index.js';
import type { ParsedMediaMessage, StreamFormat, StreamStart } from '../../../src/media/types.js';
import { plivoWire } from '../../../src/telephony/plivo/wire.js';
import { decodeExtraHeaders, encodeExtraHeaders, plivoStreamXml } from '../../../src/telephony/plivo/xml.js';

const callId = '12345678-1234-1234-1234-123456789abc';
const streamId = '87654321-4321-4321-4321-cba987654321';
const credential = 'mirx8k2p.AbCdEfGhIjKlMnOpQrStUv.0123456789abcdefghijklmnopqrstuvwxyzABCDEFG';
const parameters = { leg: 'caller', credential };
const text = (message: unknown) => Buffer.from(typeof message === 'string' ? message : JSON.stringify(message));

/** The documented `start` (plivo.com audio-streaming reference), with our extra headers. */
function startMessage(encoding = 'audio/x-mulaw', sampleRate: number | string = 8000, extra: unknown = encodeExtraHeaders(parameters).replaceAll(',', ';')) {
  return { event: 'start', sequenceNumber: 1, start: { callId, streamId, accountId: 'MAXXXXXXXXXXXXXXXXXX', tracks: ['inbound'], mediaFormat: { encoding, sampleRate } }, extra_headers: extra };
}

function started(encoding?: string, sampleRate?: number | string) {
  const session = plivoWire.session();
  const parsed = session.parse(text(startMessage(encoding, sampleRate)), false);
  if (!parsed.ok || parsed.event.kind !== 'start') throw new Error('start refused');
  return { session, start: parsed.event.start };
}

const mediaMessage = (payload: string) => ({ event: 'media', sequenceNumber: 42, streamId, media: { track: 'inbound', timestamp: '1705312200000', chunk: 41, payload }, extra_headers: 'x' });
const reason = (parsed: ParsedMediaMessage) => (parsed.ok ? parsed.event.kind : parsed.reason);

describe('Plivo media wire: inbound', () => {
  it('maps the documented start to a neutral start, extra headers decoded (";" or "," separated, or an object)', () => {
    const { start } = started();
    expect(start).toEqual({ legCallId: callId, streamId, format: { encoding: 'pcmu', sampleRate: 8000 }, parameters });
    for (const extra of [encodeExtraHeaders(parameters), Object.fromEntries(encodeExtraHeaders(parameters).split(',').map((p) => p.split('=')))]) {
      const parsed = plivoWire.session().parse(text(startMessage('audio/x-mulaw', 8000, extra)), false);
      expect(parsed.ok && parsed.event.kind === 'start' && parsed.event.start.parameters).toEqual(parameters);
    }
  });

  it('reads each documented content type, numbers as numbers or strings', () => {
    const formats: [string, number | string, StreamFormat][] = [
      ['audio/x-mulaw', 8000, { encoding: 'pcmu', sampleRate: 8000 }],
      ['audio/x-l16', 8000, { encoding: 'l16', sampleRate: 8000 }],
      ['audio/x-l16', '16000', { encoding: 'l16', sampleRate: 16000 }],
      ['audio/x-l16;rate=16000', 16000, { encoding: 'l16', sampleRate: 16000 }],
    ];
    for (const [encoding, rate, format] of formats) expect(started(encoding, rate).start.format).toEqual(format);
    for (const [encoding, rate] of [['audio/x-mulaw', 16000], ['audio/x-alaw', 8000], ['audio/x-l16', 44100], ['audio/x-l16', 'x']] as const) {
      expect(reason(plivoWire.session().parse(text(startMessage(encoding, rate)), false))).toBe('unsupported_format');
    }
  });

  it('decodes μ-law and little-endian L16 payloads to linear samples', () => {
    const tone = Int16Array.from({ length: 160 }, (_, i) => Math.round(8000 * Math.sin(i / 3)));
    const mu = Buffer.alloc(160);
    encodeMulaw(tone, mu);
    const expected = new Int16Array(160);
    decodeMulaw(mu, expected);
    const { session } = started();
    const parsed = session.parse(text(mediaMessage(mu.toString('base64'))), false);
    expect(parsed.ok && parsed.event.kind === 'audio' && Array.from(parsed.event.samples)).toEqual(Array.from(expected));

    const wide = started('audio/x-l16', 16000).session;
    const wideTone = Int16Array.from({ length: 320 }, (_, i) => i * 97 - 15000);
    const bytes = Buffer.alloc(640);
    encodeL16(wideTone, bytes);
    const l16 = wide.parse(text(mediaMessage(bytes.toString('base64'))), false);
    expect(l16.ok && l16.event.kind === 'audio' && Array.from(l16.event.samples)).toEqual(Array.from(wideTone));
  });

  it('refuses bad audio with reasons, and audio or keys before the start', () => {
    const fresh = plivoWire.session();
    expect(reason(fresh.parse(text(mediaMessage('AAAA')), false))).toBe('media_before_start');
    expect(reason(fresh.parse(text({ event: 'dtmf', dtmf: { digit: '5' } }), false))).toBe('media_before_start');
    const { session } = started();
    expect(reason(session.parse(text(mediaMessage('')), false))).toBe('frame_size');
    expect(reason(session.parse(text(mediaMessage('A'.repeat(2200))), false))).toBe('frame_size');
    expect(reason(session.parse(text(mediaMessage('!!!!')), false))).toBe('bad_payload');
    expect(reason(session.parse(text(mediaMessage('AAA')), false))).toBe('bad_payload');
    expect(reason(session.parse(text({ event: 'media', media: { payload: 7 } }), false))).toBe('invalid_message');
    const l16 = started('audio/x-l16', 8000).session;
    expect(reason(l16.parse(text(mediaMessage(Buffer.alloc(3).toString('base64'))), false))).toBe('frame_size');
    expect(reason(l16.parse(text(mediaMessage(Buffer.alloc(3202).toString('base64'))), false))).toBe('frame_size');
  });

  it('reads DTMF in both shapes seen, checkpoints played (playedStream or played), clearedAudio and stop', () => {
    const { session } = started();
    const key = (m: unknown) => {
      const parsed = session.parse(text(m), false);
      return parsed.ok && parsed.event.kind === 'dtmf' ? parsed.event.key : reason(parsed);
    };
    expect(key({ event: 'dtmf', streamId, dtmf: { digit: '5' } })).toBe('5');
    expect(key({ event: 'dtmf', digit: '#' })).toBe('#');
    expect(key({ event: 'dtmf', dtmf: { digit: 'A' } })).toBe('invalid_message');
    expect(session.parse(text({ event: 'playedStream', streamId, name: 'seg-42' }), false)).toEqual({ ok: true, event: { kind: 'mark', name: 'seg-42' } });
    expect(session.parse(text({ event: 'played', streamId, name: 'seg-43' }), false)).toEqual({ ok: true, event: { kind: 'mark', name: 'seg-43' } });
    expect(reason(session.parse(text({ event: 'clearedAudio', streamId }), false))).toBe('connected');
    expect(reason(session.parse(text({ event: 'stop' }), false))).toBe('stop');
  });

  it('refuses what is not a Plivo message', () => {
    const { session } = started();
    expect(reason(session.parse(Buffer.from([1, 2, 3]), true))).toBe('invalid_message');
    expect(reason(session.parse(text('{nope'), false))).toBe('invalid_json');
    expect(reason(session.parse(text('[1]'), false))).toBe('invalid_message');
    expect(reason(session.parse(text({ event: 'sendDTMF', dtmf: '1' }), false))).toBe('unknown_event');
    expect(reason(session.parse(text(startMessage()), false))).toBe('duplicate_start');
    expect(reason(plivoWire.session().parse(text({ event: 'start', start: { callId: 'bad id!', streamId } }), false))).toBe('invalid_message');
  });

  it('never throws, whatever arrives (property)', () => {
    const { session } = started('audio/x-l16', 16000);
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)), fc.json().map((j) => Buffer.from(j))), fc.boolean(), (data, binary) => {
        const parsed = session.parse(data, binary);
        expect(typeof parsed.ok).toBe('boolean');
      }),
      { numRuns: 500 },
    );
  });
});

describe('Plivo media wire: outbound', () => {
  const start = (format: StreamFormat): StreamStart => ({ legCallId: callId, streamId, format, parameters });

  it('writes playAudio in the stream format, checkpoint and clearAudio', () => {
    for (const format of [{ encoding: 'pcmu', sampleRate: 8000 }, { encoding: 'l16', sampleRate: 8000 }, { encoding: 'l16', sampleRate: 16000 }] as StreamFormat[]) {
      const encoder = plivoWire.session().encoder(start(format));
      const samples = Int16Array.from({ length: format.sampleRate / 50 }, (_, i) => (i * 331) % 20000 - 10000);
      const message = encoder.audio(samples);
      if (message === undefined) throw new Error('not written');
      expect(message.length).toBe(encoder.frameMessageBytes);
      const json = JSON.parse(message.toString()) as { event: string; media: { contentType: string; sampleRate: number; payload: string } };
      expect(json.event).toBe('playAudio');
      expect(json.media.contentType).toBe(format.encoding === 'pcmu' ? 'audio/x-mulaw' : 'audio/x-l16');
      expect(json.media.sampleRate).toBe(format.sampleRate);
      const bytes = Buffer.from(json.media.payload, 'base64');
      const back = new Int16Array(samples.length);
      if (format.encoding === 'pcmu') {
        decodeMulaw(bytes, back);
        const expected = new Int16Array(samples.length);
        const mu = Buffer.alloc(samples.length);
        encodeMulaw(samples, mu);
        decodeMulaw(mu, expected);
        expect(Array.from(back)).toEqual(Array.from(expected));
      } else {
        decodeL16(bytes, back);
        expect(Array.from(back)).toEqual(Array.from(samples));
      }
      expect(JSON.parse(String(encoder.mark('seg-1')))).toEqual({ event: 'checkpoint', streamId, name: 'seg-1' });
      expect(JSON.parse(String(encoder.clear()))).toEqual({ event: 'clearAudio', streamId });
      expect(encoder.audio(new Int16Array(format.sampleRate))).toBeUndefined();
      expect(encoder.audio(new Int16Array(0))).toBeUndefined();
    }
  });

  it('keeps each message intact after release, when the socket still holds it', () => {
    const encoder = plivoWire.session().encoder(start({ encoding: 'pcmu', sampleRate: 8000 }));
    const first = encoder.audio(new Int16Array(160).fill(1000)) as Buffer;
    const copy = Buffer.from(first);
    encoder.release();
    encoder.audio(new Int16Array(160).fill(-1000));
    expect(first.equals(copy)).toBe(true);
  });
});

describe('Plivo XML', () => {
  it('answers with one bidirectional stream that runs alone, as the plivo SDK renders it', () => {
    const xml = plivoStreamXml({
      streamUrl: 'wss://tg.example/media/plivo',
      format: { encoding: 'pcmu', sampleRate: 8000 },
      parameters: { leg: 'agent', agent: 'alice@example', credential },
      statusCallbackUrl: 'https://tg.example/plivo/status/stream?a=1&b=2',
    });
    const attributes = Object.fromEntries([...xml.matchAll(/ (\w+)="([^"]*)"/g)].filter(([, name]) => name !== 'version' && name !== 'encoding').map(([, name, value]) => [name, value.replaceAll('&amp;', '&')]));
    const SdkResponse = plivo.Response as unknown as new () => { addStream(body: string, attributes: Record<string, string>): void; toXML(): string };
    const sdk = new SdkResponse();
    sdk.addStream('wss://tg.example/media/plivo', attributes);
    expect(xml.replace(/^<\?xml[^>]*\?>/, '')).toBe(sdk.toXML());
    expect(attributes).toMatchObject({ bidirectional: 'true', keepCallAlive: 'true', audioTrack: 'inbound', contentType: 'audio/x-mulaw;rate=8000' });
    expect(xml).not.toContain('<Dial');
  });

  it('keeps extraHeaders to what Plivo allows, and reads them back', () => {
    const extra = encodeExtraHeaders({ leg: 'agent', agent: 'alice@example.com', credential });
    expect(extra.length).toBeLessThanOrEqual(512);
    for (const pair of extra.split(',')) expect(pair).toMatch(/^[A-Za-z0-9]+=[A-Za-z0-9]+$/);
    expect(decodeExtraHeaders(extra)).toEqual({ leg: 'agent', agent: 'alice@example.com', credential });
    expect(decodeExtraHeaders('leg=zz;__proto__=00;credential=616')).toEqual({});
    expect(decodeExtraHeaders(42)).toEqual({});
    expect(decodeExtraHeaders('x'.repeat(5000))).toEqual({});
  });
});
