/**
 * RTP fixed header (RFC 3550 §5.1): parse and serialize. Parsing validates once, where packets
 * enter; it never throws, and returns null for anything that is not a well-formed RTP packet.
 */

export const RTP_VERSION = 2;
const FIXED_HEADER = 12;

export interface RtpHeader {
  marker: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
}

export interface RtpPacket extends RtpHeader {
  /** Contributing sources (RFC 3550 §5.1): kept for pass-through, never interpreted. */
  csrcs: readonly number[];
  /** The header extension (profile and data), when the X bit was set. */
  extension?: { profile: number; data: Uint8Array };
  /** The payload without the header and without padding; a view into the received buffer. */
  payload: Uint8Array;
}

/**
 * RTCP packet types occupy 192–223 in the second byte, which RTP would read as marker plus
 * PT 64–95: RFC 5761 §4 reserves that range so both can share a port (rtcp-mux).
 */
export function isRtcp(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[1] >= 192 && buf[1] <= 223;
}

export function parseRtp(buf: Uint8Array): RtpPacket | null {
  if (buf.length < FIXED_HEADER) return null;
  const b0 = buf[0];
  if (b0 >> 6 !== RTP_VERSION) return null;
  if (isRtcp(buf)) return null;
  const padding = (b0 & 0x20) !== 0;
  const hasExtension = (b0 & 0x10) !== 0;
  const csrcCount = b0 & 0x0f;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let offset = FIXED_HEADER + 4 * csrcCount;
  if (offset > buf.length) return null;
  const csrcs: number[] = [];
  for (let i = 0; i < csrcCount; i++) csrcs.push(view.getUint32(FIXED_HEADER + 4 * i));
  let extension: RtpPacket['extension'];
  if (hasExtension) {
    if (offset + 4 > buf.length) return null;
    const profile = view.getUint16(offset);
    const words = view.getUint16(offset + 2);
    const end = offset + 4 + 4 * words;
    if (end > buf.length) return null;
    extension = { profile, data: buf.subarray(offset + 4, end) };
    offset = end;
  }
  let end = buf.length;
  if (padding) {
    const pad = buf[buf.length - 1];
    if (pad === 0 || end - pad < offset) return null;
    end -= pad;
  }
  return {
    marker: (buf[1] & 0x80) !== 0,
    payloadType: buf[1] & 0x7f,
    sequence: view.getUint16(2),
    timestamp: view.getUint32(4),
    ssrc: view.getUint32(8),
    csrcs,
    extension,
    payload: buf.subarray(offset, end),
  };
}

/** Serializes without padding. Field values are taken modulo their width. */
export function serializeRtp(packet: RtpHeader & Partial<Pick<RtpPacket, 'csrcs' | 'extension'>> & { payload: Uint8Array }): Buffer {
  const csrcs = packet.csrcs ?? [];
  if (csrcs.length > 15) throw new RangeError('an RTP header holds at most 15 CSRCs');
  const ext = packet.extension;
  if (ext && ext.data.length % 4 !== 0) throw new RangeError('an RTP header extension is a whole number of 32-bit words');
  const headerLength = FIXED_HEADER + 4 * csrcs.length + (ext ? 4 + ext.data.length : 0);
  const out = Buffer.allocUnsafe(headerLength + packet.payload.length);
  writeHeader(out, packet, csrcs.length, ext !== undefined);
  let offset = FIXED_HEADER;
  for (const csrc of csrcs) {
    out.writeUInt32BE(csrc >>> 0, offset);
    offset += 4;
  }
  if (ext) {
    out.writeUInt16BE(ext.profile & 0xffff, offset);
    out.writeUInt16BE(ext.data.length / 4, offset + 2);
    out.set(ext.data, offset + 4);
    offset += 4 + ext.data.length;
  }
  out.set(packet.payload, offset);
  return out;
}

/** Writes a 12-byte fixed header at the start of `out` (the relay's per-packet path reuses one buffer). */
export function writeHeader(out: Uint8Array, header: RtpHeader, csrcCount = 0, extension = false): void {
  out[0] = (RTP_VERSION << 6) | (extension ? 0x10 : 0) | csrcCount;
  out[1] = (header.marker ? 0x80 : 0) | (header.payloadType & 0x7f);
  out[2] = (header.sequence >> 8) & 0xff;
  out[3] = header.sequence & 0xff;
  const ts = header.timestamp >>> 0;
  const ssrc = header.ssrc >>> 0;
  out[4] = ts >>> 24;
  out[5] = (ts >>> 16) & 0xff;
  out[6] = (ts >>> 8) & 0xff;
  out[7] = ts & 0xff;
  out[8] = ssrc >>> 24;
  out[9] = (ssrc >>> 16) & 0xff;
  out[10] = (ssrc >>> 8) & 0xff;
  out[11] = ssrc & 0xff;
}

/** `a - b` for 16-bit sequence numbers, in [-32768, 32767]. */
export function seqDiff(a: number, b: number): number {
  return (((a - b) & 0xffff) << 16) >> 16;
}

/** `a - b` for 32-bit timestamps, in [-2^31, 2^31). */
export function tsDiff(a: number, b: number): number {
  return (a - b) | 0;
}
