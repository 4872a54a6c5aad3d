/**
 * RFC 2198 redundant audio data ("red"). Each redundant block has a 4-byte header (F=1, block
 * PT, 14-bit timestamp offset back from the packet's timestamp, 10-bit length); the primary
 * block's header is one byte (F=0, PT) and its data runs to the end of the payload.
 */

export interface RedBlock {
  payloadType: number;
  timestamp: number;
  data: Uint8Array;
  primary: boolean;
}

/** At most this many redundant generations are read; senders use one or two. */
const MAX_BLOCKS = 16;

/** Blocks oldest first, the primary last; null when the headers do not fit the payload. */
export function parseRed(payload: Uint8Array, timestamp: number): RedBlock[] | null {
  const headers: { payloadType: number; offset: number; length: number }[] = [];
  let at = 0;
  for (;;) {
    if (at >= payload.length) return null;
    const first = payload[at];
    if ((first & 0x80) === 0) {
      headers.push({ payloadType: first & 0x7f, offset: 0, length: -1 });
      at += 1;
      break;
    }
    if (headers.length >= MAX_BLOCKS || at + 4 > payload.length) return null;
    const offset = (payload[at + 1] << 6) | (payload[at + 2] >> 2);
    const length = ((payload[at + 2] & 0x03) << 8) | payload[at + 3];
    headers.push({ payloadType: first & 0x7f, offset, length });
    at += 4;
  }
  const blocks: RedBlock[] = [];
  for (const h of headers) {
    const length = h.length < 0 ? payload.length - at : h.length;
    if (at + length > payload.length) return null;
    blocks.push({
      payloadType: h.payloadType,
      timestamp: (timestamp - h.offset) >>> 0,
      data: payload.subarray(at, at + length),
      primary: h.length < 0,
    });
    at += length;
  }
  return blocks;
}

/** Builds a red payload (redundant blocks oldest first, then the primary); for tests and tools. */
export function serializeRed(blocks: readonly RedBlock[], timestamp: number): Uint8Array {
  const redundant = blocks.filter((b) => !b.primary);
  const primary = blocks.find((b) => b.primary);
  if (!primary || blocks[blocks.length - 1] !== primary) throw new RangeError('the primary block comes last, exactly once');
  const size = redundant.reduce((n, b) => n + 4 + b.data.length, 1 + primary.data.length);
  const out = new Uint8Array(size);
  let at = 0;
  for (const b of redundant) {
    const offset = (timestamp - b.timestamp) >>> 0;
    if (offset > 0x3fff || b.data.length > 0x3ff) throw new RangeError('a redundant block is too old or too long for RFC 2198');
    out[at] = 0x80 | (b.payloadType & 0x7f);
    out[at + 1] = offset >> 6;
    out[at + 2] = ((offset & 0x3f) << 2) | (b.data.length >> 8);
    out[at + 3] = b.data.length & 0xff;
    at += 4;
  }
  out[at++] = primary.payloadType & 0x7f;
  for (const b of [...redundant, primary]) {
    out.set(b.data, at);
    at += b.data.length;
  }
  return out;
}
