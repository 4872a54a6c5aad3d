/**
 * The header of a server's WebSocket frame (RFC 6455 §5.2), for messages built in place behind
 * room left for it: FIN set, no extension bits, not masked (a server never masks), the payload
 * length in 7 bits or as 126 and 16 bits. Longer messages are not built this way.
 */
/** The text opcode: the only kind of frame built in place (JSON audio messages). */
export const TEXT_OPCODE = 0x1;
/** Room a payload needs in front of it for its header. */
export const FRAME_HEADROOM = 4;
export const MAX_FRAMED_PAYLOAD = 0xffff;
const FIN = 0x80;
const LENGTH_16 = 126;

/** Writes the header of one final frame whose `length` payload bytes start at `payloadAt` (at least FRAME_HEADROOM in); returns where the frame starts. */
export function writeFrameHeader(into: Uint8Array, payloadAt: number, length: number, opcode: number): number {
  if (length < LENGTH_16) {
    into[payloadAt - 2] = FIN | opcode;
    into[payloadAt - 1] = length;
    return payloadAt - 2;
  }
  if (length > MAX_FRAMED_PAYLOAD) throw new RangeError('frame payload too long to build in place');
  into[payloadAt - 4] = FIN | opcode;
  into[payloadAt - 3] = LENGTH_16;
  into[payloadAt - 2] = length >> 8;
  into[payloadAt - 1] = length & 0xff;
  return payloadAt - 4;
}
