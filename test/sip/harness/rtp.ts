/**
 * The few RTP fields the SIP harness reads and writes (RFC 3550 fixed header, RFC 4733 events).
 * Deliberately independent of the relay's own parser: the harness is a judge of the relay.
 */

export const PT_PCMU = 0;
export const PT_PCMA = 8;
/** The telephone-event payload type the harness's callers offer (and SIPp's RFC 2833 pcaps carry). */
export const PT_TELEPHONE_EVENT = 101;

export interface RtpPacket {
  payloadType: number;
  marker: boolean;
  sequence: number;
  timestamp: number;
  ssrc: number;
  payload: Buffer;
}

export function encodeRtp(p: RtpPacket): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header[1] = (p.marker ? 0x80 : 0) | (p.payloadType & 0x7f);
  header.writeUInt16BE(p.sequence & 0xffff, 2);
  header.writeUInt32BE(p.timestamp >>> 0, 4);
  header.writeUInt32BE(p.ssrc >>> 0, 8);
  return Buffer.concat([header, p.payload]);
}

/** Parses version-2 RTP (CSRCs, extension and padding skipped); undefined for anything else. */
export function decodeRtp(data: Buffer): RtpPacket | undefined {
  if (data.length < 12 || data[0] >> 6 !== 2) return undefined;
  const csrcCount = data[0] & 0x0f;
  let offset = 12 + 4 * csrcCount;
  if (data[0] & 0x10) {
    if (data.length < offset + 4) return undefined;
    offset += 4 + 4 * data.readUInt16BE(offset + 2);
  }
  let end = data.length;
  if (data[0] & 0x20) end -= data[data.length - 1];
  if (end < offset) return undefined;
  return {
    payloadType: data[1] & 0x7f,
    marker: (data[1] & 0x80) !== 0,
    sequence: data.readUInt16BE(2),
    timestamp: data.readUInt32BE(4),
    ssrc: data.readUInt32BE(8),
    payload: data.subarray(offset, end),
  };
}

/** RTCP shares the port with rtcp-mux; its packet types 200–204 land on payload types 72–76 with the marker set. */
export function isRtcp(data: Buffer): boolean {
  return data.length >= 2 && data[1] >= 200 && data[1] <= 204;
}
