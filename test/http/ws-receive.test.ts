import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { WebSocketServer } from 'ws';
import { readFramesDirectly, unmaskFrame, scanClientFrame, type ClientFrame } from '../../src/http/ws-receive.js';

/** ws's own frame writer and reader, which its type definitions leave out: the independent check. */
interface WsInternals {
  Receiver: new (options: { isServer: boolean }) => NodeJS.EventEmitter & { write(chunk: Buffer): void };
  Sender: { frame(data: Buffer, options: { fin: boolean; mask: boolean; opcode: number; readOnly: boolean; rsv1: boolean }): Buffer[] };
}
const { Receiver, Sender } = createRequire(import.meta.url)('ws') as WsInternals;

const MAX_PAYLOAD = 4096;
const TEXT = 0x1;
const BINARY = 0x2;
const CONTINUATION = 0x0;
const CLOSE = 0x8;
const PING = 0x9;
const PONG = 0xa;

/** One client frame as ws writes it (masked with a fresh random key). */
function clientFrame(payload: Buffer, opcode: number, fin = true, mask = true): Buffer {
  return Buffer.concat(Sender.frame(Buffer.from(payload), { fin, mask, opcode, readOnly: false, rsv1: false }));
}

/** What the server saw on one connection, and what it answered. */
interface Outcome {
  messages: string[];
  closeCode?: number;
  pongs: number;
}

/** A server that reads its sockets through ws alone, or with the direct read path in front. */
async function startServer(direct: boolean): Promise<{ server: Server; outcomes: Outcome[] }> {
  const outcomes: Outcome[] = [];
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD, perMessageDeflate: false });
  const server = createServer();
  server.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (direct) readFramesDirectly(ws, socket, MAX_PAYLOAD);
      const outcome: Outcome = { messages: [], pongs: 0 };
      outcomes.push(outcome);
      ws.on('message', (data: Buffer, isBinary: boolean) => outcome.messages.push(`${isBinary ? 'b' : 't'}:${data.toString('hex')}`));
      ws.on('pong', () => outcome.pongs++);
      ws.on('close', (code) => (outcome.closeCode = code));
      ws.on('error', () => undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, outcomes };
}

/** A raw client: the opening handshake, then these bytes in these pieces; resolves with what the server answered once it closes. */
async function play(server: Server, pieces: Buffer[]): Promise<{ closeCode?: number; pings: number }> {
  const { port } = server.address() as AddressInfo;
  const socket: Socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  const closed = new Promise((resolve) => socket.once('close', resolve));
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  const answer = { closeCode: undefined as number | undefined, pings: 0 };
  const receiver = new Receiver({ isServer: false });
  receiver.on('conclude', (code: number) => {
    answer.closeCode = code;
    socket.end(clientFrame(Buffer.alloc(0), CLOSE));
  });
  receiver.on('pong', () => answer.pings++);
  receiver.on('error', () => socket.destroy());
  let handshake = Buffer.alloc(0);
  let upgraded = false;
  socket.on('data', (chunk: Buffer) => {
    if (upgraded) return receiver.write(chunk);
    handshake = Buffer.concat([handshake, chunk]);
    const end = handshake.indexOf('\r\n\r\n');
    if (end < 0) return;
    upgraded = true;
    if (handshake.length > end + 4) receiver.write(handshake.subarray(end + 4));
  });
  while (!upgraded) await new Promise((resolve) => setTimeout(resolve, 1));
  for (const piece of pieces) {
    if (socket.destroyed) break;
    socket.write(piece);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  // A normal close ends every exchange that did not end itself.
  if (!socket.destroyed && answer.closeCode === undefined) socket.write(clientFrame(Buffer.from([0x03, 0xe8]), CLOSE));
  await closed;
  return answer;
}

/** `bytes` cut at these offsets. */
function cut(bytes: Buffer, at: number[]): Buffer[] {
  const points = [...new Set(at.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const point of [...points, bytes.length]) {
    if (point > from) pieces.push(bytes.subarray(from, point));
    from = point;
  }
  return pieces;
}

let plain: Awaited<ReturnType<typeof startServer>>;
let direct: Awaited<ReturnType<typeof startServer>>;

beforeAll(async () => {
  plain = await startServer(false);
  direct = await startServer(true);
});
afterAll(async () => {
  for (const { server } of [plain, direct]) await new Promise((resolve) => server.close(resolve));
});

/** Plays the same bytes, in the same pieces, to ws alone and to the direct path: the server must see and answer exactly the same. */
async function sameAsTheLibrary(pieces: Buffer[]): Promise<Outcome & { answeredCode?: number }> {
  const expected = await play(plain.server, pieces);
  const actual = await play(direct.server, pieces);
  const wsOutcome = plain.outcomes.at(-1)!;
  const directOutcome = direct.outcomes.at(-1)!;
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(actual).toEqual(expected);
  expect(directOutcome).toEqual(wsOutcome);
  return { ...directOutcome, answeredCode: actual.closeCode };
}

describe('reading client frames directly', () => {
  it('sees exactly what ws sees for any mix of text, binary, pings and pongs, cut at any points (real sockets)', async () => {
    const frameArb = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 300 }).map((text) => clientFrame(Buffer.from(text), TEXT)),
      fc.uint8Array({ maxLength: 600 }).map((bytes) => clientFrame(Buffer.from(bytes), BINARY)),
      fc.uint8Array({ maxLength: 125 }).map((bytes) => clientFrame(Buffer.from(bytes), PING)),
      fc.uint8Array({ maxLength: 20 }).map((bytes) => clientFrame(Buffer.from(bytes), PONG)),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(frameArb, { minLength: 1, maxLength: 12 }), fc.array(fc.nat(), { maxLength: 6 }), async (frames, cuts) => {
        const outcome = await sameAsTheLibrary(cut(Buffer.concat(frames), cuts));
        expect(outcome.messages.length).toBe(frames.filter((f) => (f[0] & 0x0f) < 0x8).length);
      }),
      { numRuns: 25 },
    );
  }, 60_000);

  it('hands every other frame to ws, which answers as it always does: a fragmented message, a close, invalid UTF-8, too long, unmasked, extension bits', async () => {
    const hello = clientFrame(Buffer.from('{"event":"media"}'), TEXT);
    const fragmented = [clientFrame(Buffer.from('{"ev'), TEXT, false), clientFrame(Buffer.from('ent":1}'), CONTINUATION)];
    const withRsv = clientFrame(Buffer.from('x'), TEXT);
    withRsv[0] |= 0x40;
    const cases: [string, Buffer[], number][] = [
      ['fragments, then more whole frames', [hello, ...fragmented, hello], 1000],
      ['invalid UTF-8', [hello, clientFrame(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), TEXT), hello], 1007],
      ['too long', [hello, clientFrame(Buffer.alloc(MAX_PAYLOAD + 1, 0x61), TEXT)], 1009],
      ['unmasked', [hello, clientFrame(Buffer.from('x'), TEXT, true, false)], 1002],
      ['extension bits', [hello, withRsv], 1002],
      ['a close with a reason', [hello, clientFrame(Buffer.from([0x0f, 0xa0, 0x62, 0x79, 0x65]), CLOSE), hello], 4000],
    ];
    for (const [name, frames, code] of cases) {
      const outcome = await sameAsTheLibrary([Buffer.concat(frames)]);
      expect(outcome.answeredCode, name).toBe(code);
      expect(outcome.messages[0], name).toBe(`t:${Buffer.from('{"event":"media"}').toString('hex')}`);
    }
  }, 30_000);

  it('a frame header is read as RFC 6455 lays it out; unmasking twice gives the masked bytes back', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70_000 }), fc.constantFrom(TEXT, BINARY, PING), fc.nat(8), (payload, opcode, offset) => {
        const framed = Buffer.concat([Buffer.alloc(offset), clientFrame(Buffer.from(payload), opcode)]);
        const frame: ClientFrame = { kind: 'other', binary: false, maskAt: 0, end: 0 };
        scanClientFrame(framed, offset, 65_535, frame);
        const tooLong = payload.length > 65_535 || (opcode === PING && payload.length > 125);
        expect(frame.kind).toBe(tooLong ? 'other' : opcode === PING ? 'control' : 'message');
        if (tooLong) return;
        expect(frame.end).toBe(framed.length);
        expect(frame.binary).toBe(opcode === BINARY);
        scanClientFrame(framed.subarray(0, framed.length - 1), offset, 65_535, frame);
        expect(frame.kind).toBe('incomplete');
        const masked = Buffer.from(framed);
        const key = Buffer.alloc(4);
        expect(unmaskFrame(framed, frame.maskAt, framed.length, key)).toEqual(Buffer.from(payload));
        unmaskFrame(framed, frame.maskAt, framed.length, key);
        expect(framed).toEqual(masked);
      }),
      { numRuns: 200 },
    );
  });

  it('gathers a frame sent a byte at a time by copying each byte once (no quadratic re-copying), and reads what follows it', () => {
    const socket = new EventEmitter();
    const handedBack: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => handedBack.push(chunk));
    const ws = new EventEmitter();
    const messages: Buffer[] = [];
    ws.on('message', (data: Buffer) => messages.push(Buffer.from(data)));
    readFramesDirectly(ws as unknown as WebSocket, socket as unknown as Duplex, 65_535);
    const text = Buffer.alloc(60_000, 0x61);
    const bytes = Buffer.concat([clientFrame(text, TEXT), clientFrame(Buffer.from('{"b":2}'), TEXT)]);
    const copiedBy = vi.spyOn(Buffer, 'concat');
    for (let i = 0; i < bytes.length; i++) socket.emit('data', bytes.subarray(i, i + 1));
    const copied = copiedBy.mock.calls.reduce((n, [list]) => n + list.reduce((m: number, b: Uint8Array) => m + b.length, 0), 0);
    copiedBy.mockRestore();
    expect(handedBack).toEqual([]);
    expect(messages.map((m) => m.length)).toEqual([60_000, 7]);
    expect(messages[0].equals(text)).toBe(true);
    expect(messages[1].toString()).toBe('{"b":2}');
    // Only a split header is joined (a few bytes each time); before, every byte re-copied all the bytes before it.
    expect(copied).toBeLessThan(100);
  });
});
