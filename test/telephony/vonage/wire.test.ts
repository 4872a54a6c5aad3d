import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { connectWebsocketNcco } from '../../../src/telephony/vonage/ncco.js';
import { endedCallOf, parseVonageAnswer } from '../../../src/telephony/vonage/webhook.js';
import { clearCommand, frameBytes, notifyCommand, rateOf, VonageInbound, VonageOutbound } from '../../../src/telephony/vonage/wire.js';

const UUID = '63f61863-4a51-4f6b-86e1-46edebcf9356';
const text = (message: unknown) => Buffer.from(JSON.stringify(message));
const connected = (contentType = 'audio/l16;rate=16000', headers: Record<string, unknown> = { leg: 'caller', credential: 'abc', call: UUID }) =>
  text({ event: 'websocket:connected', 'content-type': contentType, ...headers });
const started = (contentType?: string) => {
  const inbound = new VonageInbound();
  expect(inbound.parse(connected(contentType), false).ok).toBe(true);
  return inbound;
};

describe('Vonage NCCO and webhooks', () => {
  it('connects the leg alone to a websocket, L16 at the configured rate, headers and Vonage JWT on the upgrade', () => {
    expect(connectWebsocketNcco({ streamUrl: 'wss://t/media/vonage', rate: 16000, callUuid: UUID, parameters: { leg: 'caller', credential: 'c' }, eventUrl: 'https://t/vonage/voice/event' })).toEqual([
      {
        action: 'connect',
        eventUrl: ['https://t/vonage/voice/event'],
        endpoint: [{ type: 'websocket', uri: 'wss://t/media/vonage', 'content-type': 'audio/l16;rate=16000', headers: { leg: 'caller', credential: 'c', call: UUID }, authorization: { type: 'vonage' } }],
      },
    ]);
  });

  it('reads the answer webhook and the statuses that end a call', () => {
    expect(parseVonageAnswer({ uuid: UUID, conversation_uuid: 'CON-1', from: '447700900000', to: '447700900001' })).toEqual({ uuid: UUID, from: '447700900000', to: '447700900001' });
    expect(parseVonageAnswer({ uuid: 'x' })).toBeNull();
    expect(endedCallOf({ uuid: UUID, status: 'completed' })).toEqual({ uuid: UUID, status: 'completed' });
    expect(endedCallOf({ uuid: UUID, status: 'answered' })).toBeNull();
    expect(endedCallOf('nope')).toBeNull();
  });
});

describe('Vonage media wire: inbound', () => {
  it('websocket:connected is the start: the leg uuid from our header, rate from content-type, the other headers as parameters', () => {
    const inbound = new VonageInbound();
    expect(inbound.parse(connected(), false)).toEqual({ ok: true, event: { kind: 'start', start: { legCallId: UUID, streamId: UUID, sampleRate: 16000, parameters: { leg: 'caller', credential: 'abc' } } } });
    expect(inbound.parse(connected(), false)).toEqual({ ok: false, reason: 'duplicate_start' });
  });

  it('refuses a start it cannot run or place', () => {
    expect(new VonageInbound().parse(connected('audio/l16;rate=24000'), false)).toEqual({ ok: false, reason: 'invalid_message' });
    expect(new VonageInbound().parse(connected('audio/l16;rate=16000', { leg: 'caller' }), false)).toEqual({ ok: false, reason: 'invalid_message' });
    expect(rateOf('audio/l16;rate=8000')).toBe(8000);
    expect(rateOf('AUDIO/L16; rate=16000')).toBe(16000);
    expect(rateOf('audio/pcmu')).toBeNull();
  });

  it('binary frames are L16 audio once started; any even size up to 200 ms', () => {
    expect(new VonageInbound().parse(Buffer.alloc(640), true)).toEqual({ ok: false, reason: 'media_before_start' });
    const inbound = started();
    const frame = Buffer.from(Array.from({ length: 640 }, (_, i) => i & 0xff));
    expect(inbound.parse(frame, true)).toEqual({ ok: true, event: { kind: 'audio', bytes: frame } });
    expect(inbound.parse(Buffer.alloc(320), true).ok).toBe(true);
    expect(inbound.parse(Buffer.alloc(641), true)).toEqual({ ok: false, reason: 'frame_size' });
    expect(inbound.parse(Buffer.alloc(0), true)).toEqual({ ok: false, reason: 'frame_size' });
    expect(inbound.parse(Buffer.alloc(6402), true)).toEqual({ ok: false, reason: 'frame_size' });
  });

  it('websocket:dtmf in the documented shape and the object shapes', () => {
    const inbound = started('audio/l16;rate=8000');
    expect(inbound.parse(text({ event: 'websocket:dtmf', digit: '5', duration: 260 }), false)).toEqual({ ok: true, event: { kind: 'dtmf', key: '5' } });
    expect(inbound.parse(text({ event: 'websocket:dtmf', dtmf: { digit: '#', duration: 100 } }), false)).toEqual({ ok: true, event: { kind: 'dtmf', key: '#' } });
    expect(inbound.parse(text({ event: 'websocket:dtmf', dtmf: { digits: '0' } }), false)).toEqual({ ok: true, event: { kind: 'dtmf', key: '0' } });
    expect(inbound.parse(text({ event: 'websocket:dtmf', digit: '55' }), false)).toEqual({ ok: false, reason: 'invalid_message' });
    expect(new VonageInbound().parse(text({ event: 'websocket:dtmf', digit: '5' }), false)).toEqual({ ok: false, reason: 'media_before_start' });
  });

  it('acknowledgements and garbage', () => {
    const inbound = started();
    expect(inbound.parse(text({ event: 'websocket:cleared' }), false)).toEqual({ ok: true, event: { kind: 'ack' } });
    expect(inbound.parse(text({ event: 'websocket:notify', payload: { name: 'm1' } }), false)).toEqual({ ok: true, event: { kind: 'ack', name: 'm1' } });
    expect(inbound.parse(Buffer.from('{'), false)).toEqual({ ok: false, reason: 'invalid_json' });
    expect(inbound.parse(Buffer.from('"x"'), false)).toEqual({ ok: false, reason: 'invalid_message' });
    expect(inbound.parse(text({ event: 'websocket:other' }), false)).toEqual({ ok: false, reason: 'unknown_event' });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.boolean(), (bytes, binary) => {
        const result = started().parse(bytes, binary);
        expect(typeof result.ok).toBe('boolean');
      }),
    );
  });
});

describe('Vonage media wire: outbound', () => {
  it('exact 20 ms binary frames, short ones padded with silence, long ones refused', () => {
    const out = new VonageOutbound(8000);
    expect(out.frameBytes).toBe(320);
    expect(frameBytes(16000)).toBe(640);
    const frame = out.audio(Int16Array.from({ length: 160 }, (_, i) => i - 80));
    expect(frame?.length).toBe(320);
    expect(frame?.readInt16LE(0)).toBe(-80);
    const short = out.audio(Int16Array.from([1, 2]));
    expect(short?.length).toBe(320);
    expect(short?.readInt16LE(2)).toBe(2);
    expect(short?.subarray(4).every((b) => b === 0)).toBe(true);
    expect(out.audio(new Int16Array(161))).toBeUndefined();
  });

  it('release gives the next frame its own buffer', () => {
    const out = new VonageOutbound(16000);
    const a = out.audio(new Int16Array(320));
    out.release();
    expect(out.audio(new Int16Array(320))).not.toBe(a);
  });

  it('text commands', () => {
    expect(JSON.parse(clearCommand())).toEqual({ action: 'clear' });
    expect(JSON.parse(notifyCommand('seg'))).toEqual({ action: 'notify', payload: { name: 'seg' } });
  });
});
