import { EventEmitter } from 'node:events';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/audit/metrics.js';
import type { LegInput, LegOutput } from '../../src/media/types.js';
import { runMediaSocket } from '../../src/telephony/media-socket.js';
import { twilioWire } from '../../src/telephony/twilio/wire.js';
import { decodeMulaw } from '../../src/dsp/index.js';

const settings = { maxQueuedFrames: 50, maxMessagesPerSecond: 1000, startTimeoutMs: 5000 };

/** As much of a `ws` socket as the runner uses: messages are emitted by the test. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  closed?: number;
  send(): void {}
  close(code: number): void {
    this.closed = code;
    this.readyState = 3;
    this.emit('close');
  }
}

const start = (sid: string) =>
  Buffer.from(JSON.stringify({ event: 'start', sequenceNumber: '1', streamSid: sid, start: { streamSid: sid, accountSid: 'AC' + '0'.repeat(32), callSid: 'CA' + sid.slice(2), tracks: ['inbound'], customParameters: {}, mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } } }));
const media = (sid: string, fill: number) => Buffer.from(JSON.stringify({ event: 'media', streamSid: sid, media: { payload: Buffer.alloc(160, fill).toString('base64') } }));
const dtmf = (sid: string) => Buffer.from(JSON.stringify({ event: 'dtmf', streamSid: sid, dtmf: { digit: '5' } }));

/** A socket run against an input that notes what it is handed, as `name:first sample` or `name:dtmf`; `name` is a hex digit (ids are hex). */
function socket(name: string, seen: string[], audio?: (samples: Int16Array) => void): FakeSocket {
  const ws = new FakeSocket();
  const input: LegInput = {
    audio: audio ?? ((samples) => void seen.push(`${name}:${samples[0]}`)),
    dtmf: () => void seen.push(`${name}:dtmf`),
    ended: () => void seen.push(`${name}:ended`),
  };
  runMediaSocket(ws as never, twilioWire, (_start, _output: LegOutput) => ({ input, leg: 'caller' }), settings, pino({ level: 'silent' }), new Metrics());
  ws.emit('message', start(`MZ${name.repeat(32)}`), false);
  return ws;
}

describe('media sockets read each message as it comes', () => {
  it('hands each socket’s messages on at once, in the order they came, and ends a closed socket at once', () => {
    const seen: string[] = [];
    const a = socket('a', seen);
    const b = socket('b', seen);
    a.emit('message', media(`MZ${'a'.repeat(32)}`, 0xff), false);
    b.emit('message', media(`MZ${'b'.repeat(32)}`, 0x80), false);
    a.emit('message', media(`MZ${'a'.repeat(32)}`, 0x00), false);
    a.emit('message', dtmf(`MZ${'a'.repeat(32)}`), false);
    expect(seen).toEqual(['a:0', 'b:32124', 'a:-32124', 'a:dtmf']);
    b.emit('message', media(`MZ${'b'.repeat(32)}`, 0xff), false);
    b.emit('close');
    expect(seen.slice(-2)).toEqual(['b:0', 'b:ended']);
    // Nothing is read after the end.
    b.emit('message', media(`MZ${'b'.repeat(32)}`, 0xff), false);
    expect(seen.slice(-1)).toEqual(['b:ended']);
  });

  it('before its stream is admitted, a socket’s messages are read as they come: a refused start closes it (1008) before anything sent after', () => {
    const ws = new FakeSocket();
    runMediaSocket(ws as never, twilioWire, () => ({ reason: 'credential_invalid' }), settings, pino({ level: 'silent' }), new Metrics());
    ws.emit('message', start(`MZ${'9'.repeat(32)}`), false);
    expect(ws.closed).toBe(1008);
  });

  it('a message that throws closes its own stream only; the other streams are read', () => {
    const seen: string[] = [];
    const bad = socket('c', seen, () => {
      throw new Error('bridge failed');
    });
    const good = socket('d', seen);
    bad.emit('message', media(`MZ${'c'.repeat(32)}`, 0xff), false);
    bad.emit('message', media(`MZ${'c'.repeat(32)}`, 0xff), false);
    good.emit('message', media(`MZ${'d'.repeat(32)}`, 0xff), false);
    expect(bad.closed).toBe(1011);
    expect(good.closed).toBeUndefined();
    expect(seen).toEqual(['c:ended', 'd:0']);
  });

  it('sockets of one wire share its decode buffers: each frame is handed on before the next is read', () => {
    const seen: string[] = [];
    const held: Int16Array[] = [];
    const sockets = ['e', 'f', '1', '2'].map((name) => socket(name, seen, (samples) => void held.push(samples.slice())));
    sockets.forEach((ws, i) => ws.emit('message', media(`MZ${['e', 'f', '1', '2'][i].repeat(32)}`, 0x10 * (i + 1)), false));
    // Every frame was read whole before the next overwrote the shared buffer.
    expect(held.map((samples) => samples[0])).toEqual([0x10, 0x20, 0x30, 0x40].map((code) => decodeMulawByte(code)));
  });
});

const decodeMulawByte = (code: number): number => {
  const samples = new Int16Array(1);
  decodeMulaw(Uint8Array.of(code), samples);
  return samples[0];
};
