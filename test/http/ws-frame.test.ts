import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { FRAME_HEADROOM, MAX_FRAMED_PAYLOAD, TEXT_OPCODE, writeFrameHeader } from '../../src/http/ws-frame.js';
import { Base64FrameWriter } from '../../src/telephony/base64-frame-writer.js';

/** ws's own frame reader and writer, which its type definitions leave out. */
interface WsInternals {
  Receiver: new (options: { isServer: boolean; skipUTF8Validation: boolean }) => NodeJS.EventEmitter & { write(chunk: Buffer): void };
  Sender: { frame(data: Buffer, options: { fin: boolean; mask: boolean; opcode: number; readOnly: boolean; rsv1: boolean }): Buffer[] };
}
const { Receiver, Sender } = createRequire(import.meta.url)('ws') as WsInternals;

/** What a `ws` client makes of these bytes: each message it reads, as text. */
function received(bytes: Buffer): string[] {
  const messages: string[] = [];
  const receiver = new Receiver({ isServer: false, skipUTF8Validation: false });
  receiver.on('message', (data: Buffer, isBinary: boolean) => {
    expect(isBinary).toBe(false);
    messages.push(data.toString('latin1'));
  });
  receiver.on('error', (err: Error) => {
    throw err;
  });
  receiver.write(bytes);
  return messages;
}

describe('WebSocket frames built in place', () => {
  it('a header is the one ws itself writes for a final, unmasked text frame of that length', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_FRAMED_PAYLOAD }), (length) => {
        const into = Buffer.alloc(FRAME_HEADROOM);
        const start = writeFrameHeader(into, FRAME_HEADROOM, length, TEXT_OPCODE);
        const [header] = Sender.frame(Buffer.alloc(length), { fin: true, mask: false, opcode: TEXT_OPCODE, readOnly: true, rsv1: false });
        expect(into.subarray(start)).toEqual(header);
      }),
      { numRuns: 500 },
    );
    for (const length of [0, 125, 126, 127, MAX_FRAMED_PAYLOAD]) {
      const into = Buffer.alloc(FRAME_HEADROOM);
      const [header] = Sender.frame(Buffer.alloc(length), { fin: true, mask: false, opcode: TEXT_OPCODE, readOnly: true, rsv1: false });
      expect(into.subarray(writeFrameHeader(into, FRAME_HEADROOM, length, TEXT_OPCODE))).toEqual(header);
    }
    expect(() => writeFrameHeader(Buffer.alloc(FRAME_HEADROOM), FRAME_HEADROOM, MAX_FRAMED_PAYLOAD + 1, TEXT_OPCODE)).toThrow(RangeError);
  });

  it('a writer’s frames read back, in a ws client, as exactly its messages, whatever the length and however the buffer was reused', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.uint8Array({ minLength: 0, maxLength: 400 }), fc.boolean()), { minLength: 1, maxLength: 8 }), (frames) => {
        const writer = new Base64FrameWriter('{"event":"media","media":{"payload":"\0"}}', 400);
        const expected: string[] = [];
        const wire: Buffer[] = [];
        for (const [bytes, detach] of frames) {
          expected.push(writer.message(bytes, bytes.length).toString('latin1'));
          wire.push(Buffer.from(writer.lastAsFrame()));
          if (detach) writer.detach();
        }
        expect(received(Buffer.concat(wire))).toEqual(expected);
        expect(expected.every((text, i) => text === `{"event":"media","media":{"payload":"${Buffer.from(frames[i][0]).toString('base64')}"}}`)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses, when made, a template whose messages could not be framed in place', () => {
    expect(() => new Base64FrameWriter('{"payload":"\0"}', 60_000)).toThrow(RangeError);
  });
});
