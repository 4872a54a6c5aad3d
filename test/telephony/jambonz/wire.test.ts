import fc from 'fast-check';
import { WebhookResponse } from '@jambonz/node-client';
import { describe, expect, it } from 'vitest';
import { decodeL16, encodeL16 } from '../../../src/dsp/index.js';
import type { ParsedMediaMessage, SampleRate, StreamStart } from '../../../src/media/types.js';
import { jambonzHangupDocument, jambonzListenDocument } from '../../../src/telephony/jambonz/listen.js';
import { jambonzWire } from '../../../src/telephony/jambonz/wire.js';

const callSid = 'ac5c697a-1234-4f00-8000-0123456789ab';
const credential = 'mirx8k2p.AbCdEfGhIjKlMnOpQrStUv.0123456789abcdefghijklmnopqrstuvwxyzABCDEFG';
const parameters = { leg: 'caller', credential };
const text = (message: unknown) => Buffer.from(typeof message === 'string' ? message : JSON.stringify(message));
const reason = (parsed: ParsedMediaMessage) => (parsed.ok ? parsed.event.kind : parsed.reason);

/** The first message as listen.js builds it: `{sampleRate, mixType}`, the call's attributes, then our metadata. */
const metadataMessage = (sampleRate: number | string = 8000, extra: Record<string, unknown> = parameters) => ({
  sampleRate,
  mixType: 'mono',
  callSid,
  direction: 'inbound',
  from: '+15005550006',
  to: '+15005550001',
  callId: 'sip-call-id@host',
  callStatus: 'in-progress',
  accountSid: 'fef61e75-0000-4000-8000-000000000000',
  ...extra,
});

function started(rate: SampleRate = 8000, streaming = true) {
  const session = jambonzWire({ streaming }).session();
  const parsed = session.parse(text(metadataMessage(rate)), false);
  if (!parsed.ok || parsed.event.kind !== 'start') throw new Error('start refused');
  return { session, start: parsed.event.start };
}

const l16 = (samples: Int16Array) => {
  const bytes = Buffer.alloc(samples.length * 2);
  encodeL16(samples, bytes);
  return bytes;
};

describe('jambonz media wire: inbound', () => {
  it('maps the metadata message to a neutral start (metadata merged at the top, or nested)', () => {
    expect(started().start).toEqual({ legCallId: callSid, streamId: callSid, format: { encoding: 'l16', sampleRate: 8000 }, parameters });
    const nested = jambonzWire({ streaming: true }).session().parse(text(metadataMessage('16000', { metadata: parameters })), false);
    expect(nested.ok && nested.event.kind === 'start' && nested.event.start).toMatchObject({ format: { sampleRate: 16000 }, parameters });
  });

  it('refuses formats it cannot run, and a second start', () => {
    const parse = (m: unknown) => reason(jambonzWire({ streaming: true }).session().parse(text(m), false));
    expect(parse(metadataMessage(24000))).toBe('unsupported_format');
    expect(parse({ ...metadataMessage(8000), mixType: 'stereo' })).toBe('unsupported_format');
    expect(parse({ ...metadataMessage(8000), callSid: 'not a sid!' })).toBe('invalid_message');
    expect(parse({ callSid })).toBe('invalid_message');
    const { session } = started();
    expect(reason(session.parse(text(metadataMessage()), false))).toBe('duplicate_start');
  });

  it('decodes binary little-endian L16 at the listen rate', () => {
    for (const rate of [8000, 16000] as const) {
      const { session } = started(rate);
      const tone = Int16Array.from({ length: rate / 50 }, (_, i) => Math.round(12000 * Math.sin(i / 5)));
      const parsed = session.parse(l16(tone), true);
      expect(parsed.ok && parsed.event.kind === 'audio' && Array.from(parsed.event.samples)).toEqual(Array.from(tone));
    }
  });

  it('refuses audio before the metadata, odd or over-long frames', () => {
    const fresh = jambonzWire({ streaming: true }).session();
    expect(reason(fresh.parse(Buffer.alloc(320), true))).toBe('media_before_start');
    expect(reason(fresh.parse(text({ event: 'dtmf', dtmf: '1', duration: 800 }), false))).toBe('media_before_start');
    const { session } = started(8000);
    expect(reason(session.parse(Buffer.alloc(0), true))).toBe('frame_size');
    expect(reason(session.parse(Buffer.alloc(1), true))).toBe('frame_size');
    expect(reason(session.parse(Buffer.alloc(321), true))).toBe('frame_size');
    expect(reason(session.parse(Buffer.alloc(3202), true))).toBe('frame_size');
    expect(reason(session.parse(Buffer.alloc(3200), true))).toBe('audio');
  });

  it('reads keys (passDtmf), marks played or cleared, and playDone', () => {
    const { session } = started();
    const key = (m: unknown) => {
      const parsed = session.parse(text(m), false);
      return parsed.ok && parsed.event.kind === 'dtmf' ? parsed.event.key : reason(parsed);
    };
    expect(key({ event: 'dtmf', dtmf: '7', duration: 1600 })).toBe('7');
    expect(key({ event: 'dtmf', digit: '*' })).toBe('*');
    expect(key({ event: 'dtmf', dtmf: '55' })).toBe('invalid_message');
    expect(session.parse(text({ type: 'mark', data: { name: 'm1', event: 'playout' } }), false)).toEqual({ ok: true, event: { kind: 'mark', name: 'm1' } });
    expect(session.parse(text({ type: 'mark', data: { name: 'm2', event: 'cleared' } }), false)).toEqual({ ok: true, event: { kind: 'mark', name: 'm2' } });
    expect(reason(session.parse(text({ type: 'playDone', data: { id: 'x' } }), false))).toBe('connected');
    expect(reason(session.parse(text({ type: 'transcription' }), false))).toBe('unknown_event');
    expect(reason(session.parse(text('{oops'), false))).toBe('invalid_json');
    expect(reason(session.parse(text('"text"'), false))).toBe('invalid_message');
  });

  it('never throws, whatever arrives (property)', () => {
    const { session } = started(16000);
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 7000 }).map((b) => Buffer.from(b)), fc.json().map((j) => Buffer.from(j))), fc.boolean(), (data, binary) => {
        expect(typeof session.parse(data, binary).ok).toBe('boolean');
      }),
      { numRuns: 500 },
    );
  });
});

describe('jambonz media wire: outbound', () => {
  const start = (sampleRate: SampleRate): StreamStart => ({ legCallId: callSid, streamId: callSid, format: { encoding: 'l16', sampleRate }, parameters });

  it('streams binary L16 frames; marks and killAudio as text', () => {
    for (const rate of [8000, 16000] as const) {
      const encoder = jambonzWire({ streaming: true }).session().encoder(start(rate));
      expect(encoder.binary).toBe(true);
      const samples = Int16Array.from({ length: rate / 50 }, (_, i) => i * 101 - 8000);
      const frame = encoder.audio(samples) as Buffer;
      expect(frame.length).toBe(encoder.frameMessageBytes);
      const back = new Int16Array(samples.length);
      decodeL16(frame, back);
      expect(Array.from(back)).toEqual(Array.from(samples));
      const copy = Buffer.from(frame);
      encoder.release();
      encoder.audio(new Int16Array(samples.length));
      expect(frame.equals(copy)).toBe(true);
      expect(JSON.parse(String(encoder.mark('seg-9')))).toEqual({ type: 'mark', data: { name: 'seg-9' } });
      expect(JSON.parse(String(encoder.clear()))).toEqual({ type: 'killAudio' });
      expect(encoder.audio(new Int16Array(rate))).toBeUndefined();
    }
  });

  it('without streaming, sends each chunk as a queued raw playAudio', () => {
    const encoder = jambonzWire({ streaming: false }).session().encoder(start(8000));
    expect(encoder.binary).toBe(false);
    const samples = Int16Array.from({ length: 160 }, (_, i) => i * 50);
    const message = encoder.audio(samples) as Buffer;
    expect(message.length).toBe(encoder.frameMessageBytes);
    const json = JSON.parse(message.toString()) as { type: string; data: { audioContent: string; audioContentType: string; sampleRate: number; queuePlay: boolean } };
    expect(json).toMatchObject({ type: 'playAudio', data: { audioContentType: 'raw', sampleRate: 8000, queuePlay: true } });
    const back = new Int16Array(160);
    decodeL16(Buffer.from(json.data.audioContent, 'base64'), back);
    expect(Array.from(back)).toEqual(Array.from(samples));
  });
});

describe('jambonz listen document', () => {
  it('is one top-level bidirectional listen that jambonz’s verb specifications accept', () => {
    const document = jambonzListenDocument({
      streamUrl: 'wss://tg.example/media/jambonz',
      actionHook: 'https://tg.example/jambonz/voice/listen-ended',
      sampleRate: 8000,
      parameters: { leg: 'agent', agent: 'alice', credential },
      wsAuth: { username: 'toneguard', password: 'derived' },
      streaming: true,
    });
    expect(document).toHaveLength(1);
    const [listen] = document as Record<string, unknown>[];
    const { verb, ...payload } = listen;
    expect(verb).toBe('listen');
    expect(JSON.stringify(new WebhookResponse().listen(payload))).toBe(JSON.stringify(document));
    expect(listen).toMatchObject({ mixType: 'mono', passDtmf: true, bidirectionalAudio: { enabled: true, streaming: true, sampleRate: 8000 }, metadata: { leg: 'agent', agent: 'alice', credential } });
    expect(JSON.stringify(new WebhookResponse().hangup())).toBe(JSON.stringify(jambonzHangupDocument()));
  });
});
