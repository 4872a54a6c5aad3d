/**
 * RTCP SSRC mapping (RFC 3550 §6.4–6.6) for a relay that re-originates a stream under its own
 * SSRC: the sender's SSRC in SR/RR/BYE becomes the egress SSRC, and report blocks about the
 * egress SSRC are pointed back at the original. Other packet types (SDES, APP, feedback) pass
 * unchanged. Returns a rewritten copy, or null when the compound packet is malformed.
 */

const SR = 200;
const RR = 201;
const BYE = 203;
const REPORT_BLOCK = 24;
const SENDER_INFO = 20;

export function mapRtcpSsrcs(input: Uint8Array, map: (ssrc: number) => number): Buffer | null {
  const out = Buffer.from(input);
  let at = 0;
  while (at < out.length) {
    if (at + 4 > out.length || out[at] >> 6 !== 2) return null;
    const count = out[at] & 0x1f;
    const type = out[at + 1];
    const length = 4 * (out.readUInt16BE(at + 2) + 1);
    if (at + length > out.length) return null;
    if (type === SR || type === RR) {
      const blocksAt = at + 8 + (type === SR ? SENDER_INFO : 0);
      if (blocksAt + count * REPORT_BLOCK > at + length) return null;
      rewrite(out, at + 4, map);
      for (let i = 0; i < count; i++) rewrite(out, blocksAt + i * REPORT_BLOCK, map);
    } else if (type === BYE) {
      if (at + 4 + 4 * count > at + length) return null;
      for (let i = 0; i < count; i++) rewrite(out, at + 4 + 4 * i, map);
    }
    at += length;
  }
  return at === 0 ? null : out;
}

function rewrite(buf: Buffer, offset: number, map: (ssrc: number) => number): void {
  buf.writeUInt32BE(map(buf.readUInt32BE(offset)) >>> 0, offset);
}
