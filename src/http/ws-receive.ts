import { isUtf8 } from 'node:buffer';
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

/**
 * The socket library's own native unmasking (it falls back to JavaScript where its build is
 * missing): about a quarter of the JavaScript loop's time on a 20 ms media frame.
 */
const { unmask } = createRequire(import.meta.url)('bufferutil') as { unmask(buffer: Buffer, mask: Buffer): void };

/**
 * The client frames (RFC 6455 §5.2) that the direct read path takes itself. Everything else, and
 * every error, is the socket library's: it is handed the bytes and answers as it always does.
 */
export type ClientFrameKind =
  /** A whole, final, unfragmented, masked text or binary frame within the size limit. */
  | 'message'
  /** A whole, masked ping or pong (the library answers a ping). */
  | 'control'
  /** Not all of the frame has arrived yet. */
  | 'incomplete'
  /** Anything else: a fragment, a close, extension bits, no mask, too long, a malformed header. */
  | 'other';

export interface ClientFrame {
  kind: ClientFrameKind;
  binary: boolean;
  /** Where the mask key starts (the payload follows it). */
  maskAt: number;
  /** Where the frame ends; 0 while its header is not all there. */
  end: number;
}

const FIN = 0x80;
const RSV_BITS = 0x70;
const OPCODE = 0x0f;
const MASKED = 0x80;
const LENGTH_7 = 0x7f;
const LENGTH_16 = 126;
const LENGTH_64 = 127;
const TEXT = 0x1;
const BINARY = 0x2;
const PING = 0x9;
const PONG = 0xa;
const MASK_BYTES = 4;
const MAX_CONTROL_PAYLOAD = 125;

/** Reads the header of the frame at `at` of `data` into `frame` (reused by the caller, so a frame allocates nothing). */
export function scanClientFrame(data: Uint8Array, at: number, maxPayload: number, frame: ClientFrame): ClientFrame {
  frame.kind = 'other';
  frame.end = 0;
  const available = data.length - at;
  if (available < 2) return ((frame.kind = 'incomplete'), frame);
  const first = data[at];
  const second = data[at + 1];
  if ((second & MASKED) === 0 || (first & RSV_BITS) !== 0) return frame;
  let length = second & LENGTH_7;
  let header = 2;
  if (length === LENGTH_64) return frame;
  if (length === LENGTH_16) {
    if (available < 4) return ((frame.kind = 'incomplete'), frame);
    length = (data[at + 2] << 8) | data[at + 3];
    header = 4;
  }
  const opcode = first & OPCODE;
  const final = (first & FIN) !== 0;
  const control = opcode === PING || opcode === PONG;
  if (!final || length > maxPayload || (control ? length > MAX_CONTROL_PAYLOAD : opcode !== TEXT && opcode !== BINARY)) return frame;
  frame.maskAt = at + header;
  frame.end = frame.maskAt + MASK_BYTES + length;
  frame.binary = opcode === BINARY;
  frame.kind = frame.end > data.length ? 'incomplete' : control ? 'control' : 'message';
  return frame;
}

/**
 * Unmasks the payload of the frame whose mask key is at `maskAt` and which ends at `end`, in place
 * (RFC 6455 §5.3), and returns it; a second call masks it again. `key` is a 4-byte scratch buffer.
 */
export function unmaskFrame(data: Buffer, maskAt: number, end: number, key: Buffer): Buffer {
  key[0] = data[maskAt];
  key[1] = data[maskAt + 1];
  key[2] = data[maskAt + 2];
  key[3] = data[maskAt + 3];
  const payload = data.subarray(maskAt + MASK_BYTES, end);
  unmask(payload, key);
  return payload;
}

type DataListener = (this: Duplex, chunk: Buffer) => void;

/**
 * Reads the common frames of an accepted WebSocket straight from its connection: each whole,
 * final, masked text or binary frame is unmasked in place and emitted as the socket library's
 * own `message` event (the same Buffer view it gives), with no stream machinery per message in
 * between. Text is checked as UTF-8 as the library checks it. Pings and pongs go to the library
 * whole, and it answers them. At the first frame of any other kind (a close, a fragment, an
 * error to answer) the connection is handed back to the library for good, from that frame on,
 * so every close and protocol error is exactly the library's. A frame split across reads waits
 * (at most `maxPayload` and a header) for the rest.
 */
export function readFramesDirectly(ws: WebSocket, socket: Duplex, maxPayload: number): void {
  const listeners = socket.listeners('data') as DataListener[];
  // Not the one reader expected (another library version): the library keeps the connection.
  if (listeners.length !== 1) return;
  const library = listeners[0];
  const frame: ClientFrame = { kind: 'other', binary: false, maskAt: 0, end: 0 };
  /** The current frame's mask key, copied out of the read (a view of it would be an object per frame). */
  const maskKey = Buffer.alloc(MASK_BYTES);
  /** The start of a frame whose header is split across reads (a few bytes). */
  let headerPart: Buffer | undefined;
  /** A frame split across reads, gathered in a buffer of its whole length: each byte is copied once, however thinly it is sent. */
  let gathering: Buffer | undefined;
  let gathered = 0;

  const handBack = (rest: Buffer) => {
    socket.removeListener('data', direct);
    socket.on('data', library);
    if (rest.length > 0) library.call(socket, rest);
  };

  /** Reads the frames in `data`; false once the connection was handed back. */
  const readFrames = (data: Buffer): boolean => {
    let at = 0;
    while (at < data.length) {
      scanClientFrame(data, at, maxPayload, frame);
      if (frame.kind === 'incomplete') {
        if (frame.end === 0) headerPart = Buffer.from(data.subarray(at));
        else {
          gathering = Buffer.allocUnsafe(frame.end - at);
          gathered = data.copy(gathering, 0, at);
        }
        return true;
      }
      if (frame.kind === 'other') return (handBack(data.subarray(at)), false);
      const { end, binary } = frame;
      if (frame.kind === 'control') {
        library.call(socket, data.subarray(at, end));
        at = end;
        continue;
      }
      const payload = unmaskFrame(data, frame.maskAt, end, maskKey);
      if (!binary && !isUtf8(payload)) {
        // Masked again as it came, for the library to refuse (1007).
        unmaskFrame(data, frame.maskAt, end, maskKey);
        return (handBack(data.subarray(at)), false);
      }
      at = end;
      ws.emit('message', payload, binary);
    }
    return true;
  };

  function direct(chunk: Buffer): void {
    if (gathering) {
      const n = chunk.copy(gathering, gathered);
      gathered += n;
      if (gathered < gathering.length) return;
      const whole = gathering;
      gathering = undefined;
      const rest = chunk.subarray(n);
      if (!readFrames(whole)) {
        if (rest.length > 0) library.call(socket, rest);
        return;
      }
      if (rest.length > 0) readFrames(rest);
      return;
    }
    const data = headerPart ? Buffer.concat([headerPart, chunk]) : chunk;
    headerPart = undefined;
    readFrames(data);
  }

  socket.removeListener('data', library);
  socket.on('data', direct);
}
