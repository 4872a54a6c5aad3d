import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRtcp, parseRtp, seqDiff, serializeRtp, tsDiff } from '../../../src/telephony/sip/rtp/packet.js';
import { mapRtcpSsrcs } from '../../../src/telephony/sip/rtp/rtcp.js';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
/** Payload types RTP may use on a shared port: 64–95 would read as RTCP (RFC 5761 §4). */
const rtpPayloadType = fc.integer({ min: 0, max: 127 }).filter((pt) => pt < 64 || pt > 95);

const packet = fc.record({
  marker: fc.boolean(),
  payloadType: rtpPayloadType,
  sequence: fc.integer({ min: 0, max: 0xffff }),
  timestamp: u32,
  ssrc: u32,
  csrcs: fc.array(u32, { maxLength: 15 }),
  extension: fc.option(
    fc.record({ profile: fc.integer({ min: 0, max: 0xffff }), data: fc.uint8Array({ maxLength: 40 }).map((d) => d.subarray(0, d.length - (d.length % 4))) }),
    { nil: undefined },
  ),
  payload: fc.uint8Array({ maxLength: 400 }),
});

describe('RTP packets (RFC 3550 §5.1)', () => {
  it('round-trips every header field, CSRCs, extension and payload', () => {
    fc.assert(
      fc.property(packet, (p) => {
        const parsed = parseRtp(serializeRtp(p));
        expect(parsed).not.toBeNull();
        expect(parsed).toMatchObject({ marker: p.marker, payloadType: p.payloadType, sequence: p.sequence, timestamp: p.timestamp, ssrc: p.ssrc, csrcs: p.csrcs });
        expect(Buffer.from(parsed!.payload).equals(Buffer.from(p.payload))).toBe(true);
        if (p.extension) expect(Buffer.from(parsed!.extension!.data).equals(Buffer.from(p.extension.data))).toBe(true);
        else expect(parsed!.extension).toBeUndefined();
      }),
    );
  });

  it('never throws on arbitrary bytes, and what it accepts is version 2 with a payload inside the datagram', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const parsed = parseRtp(bytes);
        if (parsed) {
          expect(bytes[0] >> 6).toBe(2);
          expect(parsed.payload.byteOffset + parsed.payload.length).toBeLessThanOrEqual(bytes.byteOffset + bytes.length);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('strips padding and refuses padding that overruns the header', () => {
    const body = serializeRtp({ marker: false, payloadType: 0, sequence: 1, timestamp: 2, ssrc: 3, payload: new Uint8Array([9, 9]) });
    const padded = Buffer.concat([body, Buffer.from([0, 0, 3])]);
    padded[0] |= 0x20;
    expect(Array.from(parseRtp(padded)!.payload)).toEqual([9, 9]);
    padded[padded.length - 1] = 200;
    expect(parseRtp(padded)).toBeNull();
  });

  it('tells RTCP from RTP on a multiplexed port by packet type 192–223', () => {
    expect(isRtcp(Buffer.from([0x80, 200, 0, 6]))).toBe(true);
    expect(isRtcp(Buffer.from([0x80, 0x80 | 0, 0, 1]))).toBe(false);
    expect(parseRtp(Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]))).toBeNull();
  });

  it('sequence and timestamp differences wrap', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: -32768, max: 32767 }), (a, d) => {
        expect(seqDiff((a + d) & 0xffff, a)).toBe(d);
      }),
    );
    expect(tsDiff(5, 0xfffffffe)).toBe(7);
  });
});

describe('RTCP SSRC mapping', () => {
  it('rewrites the sender and report-block SSRCs of SR/RR and BYE, leaves the rest', () => {
    const sr = Buffer.alloc(52);
    sr[0] = 0x81; // V=2, one report block
    sr[1] = 200;
    sr.writeUInt16BE(12, 2);
    sr.writeUInt32BE(0x11111111, 4);
    sr.writeUInt32BE(0x22222222, 28);
    const bye = Buffer.from([0x81, 203, 0, 1, 0x11, 0x11, 0x11, 0x11]);
    const out = mapRtcpSsrcs(Buffer.concat([sr, bye]), (s) => (s === 0x11111111 ? 0xaaaaaaaa : s === 0x22222222 ? 0xbbbbbbbb : s))!;
    expect(out.readUInt32BE(4)).toBe(0xaaaaaaaa);
    expect(out.readUInt32BE(28)).toBe(0xbbbbbbbb);
    expect(out.readUInt32BE(56)).toBe(0xaaaaaaaa);
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => void mapRtcpSsrcs(bytes, (s) => s ^ 1)), { numRuns: 2000 });
  });
});
