import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeMulaw } from '../../../src/dsp/index.js';
import { TelnyxInbound, TelnyxOutbound, formatOf, type TelnyxEvent } from '../../../src/telephony/telnyx/wire.js';

const CALL = 'v3:T02llQxIyaRkhfRKxgAP8nY511EhFLizdvdUKJiSw8d6A9BborherQ';
const STREAM = '32DE0DEA-53CB-4B21-89A4-9E1819C043BC';

/** The documented `start` frame (AsyncAPI example), with our parameters. */
const startFrame = (extra: Record<string, unknown> = {}, mediaFormat: Record<string, unknown> = { encoding: 'PCMU', sample_rate: 8000, channels: 1 }) =>
  JSON.stringify({
    event: 'start',
    sequence_number: '1',
    stream_id: STREAM,
    start: {
      user_id: '3E6F995F-85F7-4705-9741-53B116D28237',
      call_control_id: CALL,
      call_session_id: 'ff55a038-6f5d-11ef-9692-02420aeffb1f',
      from: '+13122010094',
      to: '+13122123456',
      tags: ['TAG1'],
      client_state: 'aGF2ZSBhIG5pY2UgZGF5ID1d',
      custom_parameters: { leg: 'caller', credential: 'abc' },
      media_format: mediaFormat,
      ...extra,
    },
  });
const mediaFrame = (sequence: number, bytes: Uint8Array, track = 'inbound') =>
  JSON.stringify({ event: 'media', sequence_number: String(sequence), stream_id: STREAM, media: { track, chunk: String(sequence - 1), timestamp: String(sequence * 20), payload: Buffer.from(bytes).toString('base64') } });
const tone = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
const started = (window = 3, order: 'big' | 'little' = 'big', format?: Record<string, unknown>) => {
  const inbound = new TelnyxInbound(window, order);
  const result = inbound.accept(startFrame({}, format));
  expect(result.refusals).toEqual([]);
  return inbound;
};
const audioOf = (events: TelnyxEvent[]) => events.flatMap((e) => (e.kind === 'audio' ? [Array.from(e.bytes)] : []));

describe('Telnyx media wire: inbound', () => {
  it('reads the documented start: call control id, stream id, format, custom parameters', () => {
    const inbound = new TelnyxInbound(3);
    expect(inbound.accept('{"event":"connected","version":"1.0.0"}')).toEqual({ events: [{ kind: 'connected' }], refusals: [] });
    const { events } = inbound.accept(startFrame());
    expect(events).toEqual([{ kind: 'start', start: { legCallId: CALL, streamId: STREAM, format: { encoding: 'pcmu', sampleRate: 8000 }, parameters: { leg: 'caller', credential: 'abc' } } }]);
  });

  it('accepts custom parameters as the [{name, value}] list streaming_start takes', () => {
    const inbound = new TelnyxInbound(3);
    const { events } = inbound.accept(startFrame({ custom_parameters: [{ name: 'leg', value: 'agent' }, { name: 'agent', value: 'a1' }] }));
    expect(events[0]).toMatchObject({ kind: 'start', start: { parameters: { leg: 'agent', agent: 'a1' } } });
  });

  it('maps codecs: PCMU/PCMA at 8 kHz, L16 at 8 or 16 kHz; refuses what Toneguard cannot run', () => {
    expect(formatOf({ encoding: 'PCMA', sample_rate: 8000 })).toEqual({ encoding: 'pcma', sampleRate: 8000 });
    expect(formatOf({ encoding: 'L16', sample_rate: 16000 })).toEqual({ encoding: 'l16', sampleRate: 16000 });
    expect(formatOf({ encoding: 'L16' })).toEqual({ encoding: 'l16', sampleRate: 16000 });
    expect(formatOf({ encoding: 'L16', sample_rate: 8000 })).toEqual({ encoding: 'l16', sampleRate: 8000 });
    expect(formatOf({ encoding: 'OPUS', sample_rate: 48000 })).toBeNull();
    expect(formatOf({ encoding: 'PCMU', sample_rate: 16000 })).toBeNull();
    expect(new TelnyxInbound(3).accept(startFrame({}, { encoding: 'G722', sample_rate: 16000 })).refusals).toEqual(['invalid_message']);
  });

  it('decodes media payloads (PCMU bytes) and refuses media before start', () => {
    expect(new TelnyxInbound(3).accept(mediaFrame(2, tone(160, 1))).refusals).toEqual(['media_before_start']);
    const inbound = started();
    expect(audioOf(inbound.accept(mediaFrame(2, tone(160, 1))).events)).toEqual([Array.from(tone(160, 1))]);
  });

  it('L16 in network byte order becomes the little-endian L16 the DSP reads (and the little-endian shape is accepted too)', () => {
    const be = started(3, 'big', { encoding: 'L16', sample_rate: 16000 });
    const { events } = be.accept(mediaFrame(2, Uint8Array.from([0x12, 0x34, 0xab, 0xcd])));
    expect(audioOf(events)).toEqual([[0x34, 0x12, 0xcd, 0xab]]);
    const le = started(3, 'little', { encoding: 'L16', sample_rate: 16000 });
    expect(audioOf(le.accept(mediaFrame(2, Uint8Array.from([0x12, 0x34]))).events)).toEqual([[0x12, 0x34]]);
    expect(be.accept(mediaFrame(3, Uint8Array.from([1, 2, 3]))).refusals).toEqual(['frame_size']);
  });

  it('puts out-of-order frames back in order and drops duplicates', () => {
    const inbound = started(3);
    const frames = [2, 3, 4, 5, 6].map((s) => ({ s, bytes: tone(160, s) }));
    const arrival = [frames[1], frames[0], frames[3], frames[2], frames[2], frames[4]];
    const out = arrival.flatMap((f) => audioOf(inbound.accept(mediaFrame(f.s, f.bytes)).events));
    expect(out).toEqual(frames.map((f) => Array.from(f.bytes)));
    expect(inbound.reorderCounts).toMatchObject({ reordered: 2, duplicate: 1 });
  });

  it('keeps a dtmf event in its place among the frames, in both digit shapes', () => {
    const inbound = started(3);
    const a = inbound.accept(JSON.stringify({ event: 'dtmf', sequence_number: '3', stream_id: STREAM, dtmf: { digit: '5' } }));
    expect(a.events).toEqual([]);
    const b = inbound.accept(mediaFrame(2, tone(160, 2)));
    expect(b.events.map((e) => e.kind)).toEqual(['audio', 'dtmf']);
    expect(inbound.accept(JSON.stringify({ event: 'dtmf', sequence_number: '4', digit: '#' })).events).toEqual([{ kind: 'dtmf', key: '#' }]);
    expect(inbound.accept(JSON.stringify({ event: 'dtmf', sequence_number: '5', dtmf: { digit: 'Z' } })).refusals).toEqual(['invalid_message']);
  });

  it('stop delivers what the window still holds, then stop', () => {
    const inbound = started(3);
    inbound.accept(mediaFrame(3, tone(160, 3)));
    const { events } = inbound.accept(JSON.stringify({ event: 'stop', sequence_number: '4', stream_id: STREAM, stop: { call_control_id: CALL } }));
    expect(events.map((e) => e.kind)).toEqual(['audio', 'stop']);
  });

  it('ignores an outbound-track echo, reports Telnyx errors by code, echoes marks', () => {
    const inbound = started(3);
    expect(inbound.accept(mediaFrame(2, tone(160, 1), 'outbound'))).toEqual({ events: [], refusals: [] });
    expect(inbound.accept(JSON.stringify({ event: 'error', sequence_number: '3', payload: { code: 100003, title: 'malformed frame' } })).events).toEqual([{ kind: 'error', code: '100003' }]);
    expect(inbound.accept(JSON.stringify({ event: 'mark', sequence_number: '4', mark: { name: 'm1' } })).events).toEqual([{ kind: 'mark', name: 'm1' }]);
  });

  it('refuses garbage with reasons, never throws, never echoes the payload', () => {
    const inbound = started(3);
    expect(inbound.accept('{').refusals).toEqual(['invalid_json']);
    expect(inbound.accept('[]').refusals).toEqual(['invalid_message']);
    expect(inbound.accept('{"event":"nope"}').refusals).toEqual(['unknown_event']);
    expect(inbound.accept(startFrame()).refusals).toEqual(['duplicate_start']);
    expect(inbound.accept(JSON.stringify({ event: 'media', media: { payload: 'AAA*' } })).refusals).toEqual(['bad_payload']);
    expect(inbound.accept(JSON.stringify({ event: 'media', media: { payload: Buffer.alloc(4000).toString('base64') } })).refusals).toEqual(['frame_size']);
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.constantFrom('{"event":"media","media":{"payload":"4111111111111111"}}')), (text) => {
        const result = started(2).accept(text);
        expect(JSON.stringify(result.refusals)).not.toContain('4111');
      }),
    );
  });
});

describe('Telnyx media wire: outbound', () => {
  it('media carries base64 of the codec bytes; mark and clear name the stream', () => {
    const out = new TelnyxOutbound(STREAM, { encoding: 'pcmu', sampleRate: 8000 });
    const samples = Int16Array.from({ length: 160 }, (_, i) => Math.round(8000 * Math.sin(i / 3)));
    const message = JSON.parse(out.media(samples)) as { event: string; stream_id: string; media: { payload: string } };
    expect(message.event).toBe('media');
    expect(message.stream_id).toBe(STREAM);
    const expected = new Uint8Array(160);
    encodeMulaw(samples, expected);
    expect(Array.from(Buffer.from(message.media.payload, 'base64'))).toEqual(Array.from(expected));
    expect(JSON.parse(out.mark('seg-1'))).toEqual({ event: 'mark', stream_id: STREAM, mark: { name: 'seg-1' } });
    expect(JSON.parse(out.clear())).toEqual({ event: 'clear', stream_id: STREAM });
  });

  it('L16 goes out in the configured byte order', () => {
    const be = new TelnyxOutbound(STREAM, { encoding: 'l16', sampleRate: 16000 }, 'big');
    const payload = (m: string) => Array.from(Buffer.from((JSON.parse(m) as { media: { payload: string } }).media.payload, 'base64'));
    expect(payload(be.media(Int16Array.from([0x1234])))).toEqual([0x12, 0x34]);
    const le = new TelnyxOutbound(STREAM, { encoding: 'l16', sampleRate: 16000 }, 'little');
    expect(payload(le.media(Int16Array.from([0x1234])))).toEqual([0x34, 0x12]);
  });
});
