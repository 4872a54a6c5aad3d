import fc from 'fast-check';
import { write, type MediaDescription, type SessionDescription } from 'sdp-transform';
import { describe, expect, it } from 'vitest';
import { parseSdp, peerMedia, relayableAudioIndex } from '../../../src/telephony/sip/sdp/audio.js';
import { rewriteSdp } from '../../../src/telephony/sip/sdp/rewrite.js';
import { phoneSdp } from './fakes.js';

const ADVERTISED = '203.0.113.7';
const LOCAL = { rtpPort: 30010, rtcpPort: 30011 };
const ipv4 = fc.tuple(fc.integer({ min: 1, max: 223 }), fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 254 })).map((p) => p.join('.'));
const port = fc.integer({ min: 1024, max: 65000 });

interface Generated {
  session: SessionDescription;
  audioIndex: number;
  telephoneEvent: number | undefined;
  /** Payload types the audio offers that Toneguard cannot mask (they must go). */
  foreign: number[];
}

const relayedAudio = fc
  .record({
    port,
    g711: fc.subarray([0, 8], { minLength: 1 }),
    telephoneEvent: fc.option(fc.integer({ min: 96, max: 127 }), { nil: undefined }),
    g729: fc.boolean(),
    direction: fc.option(fc.constantFrom('sendrecv', 'sendonly', 'recvonly', 'inactive' as const), { nil: undefined }),
    rtcp: fc.option(port, { nil: undefined }),
    rtcpMux: fc.boolean(),
    ptime: fc.option(fc.constantFrom(10, 20, 30), { nil: undefined }),
    connection: fc.option(ipv4, { nil: undefined }),
    unknown: fc.option(fc.constantFrom('x-foo:bar', 'label:1', 'maxptime:40'), { nil: undefined }),
    ice: fc.boolean(),
  })
  .map((a): { media: MediaDescription; telephoneEvent: number | undefined; foreign: number[] } => {
    const payloads = [...a.g711, ...(a.g729 ? [18] : []), ...(a.telephoneEvent !== undefined ? [a.telephoneEvent] : [])];
    const media: MediaDescription = {
      type: 'audio',
      port: a.port,
      protocol: 'RTP/AVP',
      payloads: payloads.join(' '),
      rtp: payloads.map((p) => ({ payload: p, codec: p === 0 ? 'PCMU' : p === 8 ? 'PCMA' : p === 18 ? 'G729' : 'telephone-event', rate: 8000 })),
      fmtp: [...(a.g729 ? [{ payload: 18, config: 'annexb=no' }] : []), ...(a.telephoneEvent !== undefined ? [{ payload: a.telephoneEvent, config: '0-16' }] : [])],
      ...(a.connection ? { connection: { version: 4, ip: a.connection } } : {}),
      ...(a.rtcp ? { rtcp: { port: a.rtcp } } : {}),
      ...(a.ptime ? { ptime: a.ptime } : {}),
      ...(a.direction ? { direction: a.direction } : {}),
      ...(a.rtcpMux ? { rtcpMux: 'rtcp-mux' as const } : {}),
      ...(a.ice ? { iceUfrag: 'F7gI', icePwd: 'x9cml/YzichV2+XlhiMu8g', candidates: [{ foundation: '1', component: 1, transport: 'udp', priority: 2113937151, ip: '192.168.1.5', port: a.port, type: 'host' }] } : {}),
      ...(a.unknown ? { invalid: [{ value: a.unknown }] } : {}),
    };
    return { media, telephoneEvent: a.telephoneEvent, foreign: a.g729 ? [18] : [] };
  });

const otherMedia = fc.oneof(
  port.map((p): MediaDescription => ({ type: 'video', port: p, protocol: 'RTP/AVP', payloads: '96', rtp: [{ payload: 96, codec: 'H264', rate: 90000 }], fmtp: [] })),
  port.map((p): MediaDescription => ({ type: 'audio', port: p, protocol: 'RTP/SAVP', payloads: '0', rtp: [{ payload: 0, codec: 'PCMU', rate: 8000 }], fmtp: [] })),
);

const generatedSdp: fc.Arbitrary<Generated> = fc
  .record({
    origin: ipv4,
    sessionConnection: fc.option(ipv4, { nil: undefined }),
    sessionId: fc.integer({ min: 1, max: 2 ** 31 }),
    version: fc.nat(1000),
    name: fc.constantFrom('-', 'tester', 'Talk'),
    before: fc.array(otherMedia, { maxLength: 2 }),
    audio: relayedAudio,
    after: fc.array(otherMedia, { maxLength: 2 }),
  })
  .filter((g) => g.sessionConnection !== undefined || g.audio.media.connection !== undefined)
  .map((g) => ({
    session: {
      version: 0,
      origin: { username: '-', sessionId: g.sessionId, sessionVersion: g.version, netType: 'IN', ipVer: 4, address: g.origin },
      name: g.name,
      timing: { start: 0, stop: 0 },
      ...(g.sessionConnection ? { connection: { version: 4, ip: g.sessionConnection } } : {}),
      media: [...g.before, g.audio.media, ...g.after],
    },
    audioIndex: g.before.length,
    telephoneEvent: g.audio.telephoneEvent,
    foreign: g.audio.foreign,
  }));

/** Splits an SDP into its session block and one block per m= line. */
function sections(sdp: string): string[][] {
  const blocks: string[][] = [[]];
  for (const line of sdp.split('\r\n').filter(Boolean)) {
    if (line.startsWith('m=')) blocks.push([]);
    blocks[blocks.length - 1].push(line);
  }
  return blocks;
}

const isIceLine = (line: string) => /^a=(candidate|ice-|end-of-candidates|remote-candidates)/.test(line);

describe('SDP rewriting (sdp-transform, no regular expressions in the product)', () => {
  it('replaces addresses and the relayed port, keeps payload numbers, strips what cannot be masked, changes no other line', () => {
    fc.assert(
      fc.property(generatedSdp, fc.boolean(), fc.boolean(), ({ session, audioIndex, telephoneEvent, foreign }, rtcpMux, rtcpAttribute) => {
        // The library's own form of the SDP: the rewrite keeps the library's line order.
        const input = write(parseSdp(write(session))!);
        const parsed = parseSdp(input)!;
        expect(relayableAudioIndex(parsed)).toBe(audioIndex);
        const output = rewriteSdp(parsed, { audioIndex, address: ADVERTISED, local: LOCAL, rtcpMux, rtcpAttribute });
        const [inSession, ...inMedia] = sections(input);
        const [outSession, ...outMedia] = sections(output);
        expect(outSession).toEqual(inSession.map((l) => (l.startsWith('o=') ? l.replace(/IN IP4 \S+$/, `IN IP4 ${ADVERTISED}`) : l.startsWith('c=') ? `c=IN IP4 ${ADVERTISED}` : l)));
        expect(outMedia).toHaveLength(inMedia.length);
        inMedia.forEach((lines, i) => {
          if (i !== audioIndex) {
            expect(outMedia[i]).toEqual(lines.map((l) => (l.startsWith('m=') ? l.replace(/^(m=\S+) \d+/, '$1 0') : l)));
            return;
          }
          const kept = [0, 8, telephoneEvent].filter((p) => p !== undefined && lines[0].split(' ').slice(3).includes(String(p)));
          const [mLine, ...rest] = outMedia[i];
          expect(mLine).toBe(`m=audio ${LOCAL.rtpPort} RTP/AVP ${kept.join(' ')}`);
          const expected = lines
            .slice(1)
            .filter((l) => !isIceLine(l) && !l.startsWith('a=rtcp:') && !l.startsWith('a=rtcp-mux') && !foreign.some((p) => l.startsWith(`a=rtpmap:${p} `) || l.startsWith(`a=fmtp:${p} `)))
            .map((l) => (l.startsWith('c=') ? `c=IN IP4 ${ADVERTISED}` : l));
          expect(rest.filter((l) => !l.startsWith('a=rtcp:') && l !== 'a=rtcp-mux')).toEqual(expected);
          expect(rest.filter((l) => l.startsWith('a=rtcp:'))).toEqual(rtcpAttribute ? [`a=rtcp:${rtcpMux ? LOCAL.rtpPort : LOCAL.rtcpPort}`] : []);
          expect(rest.includes('a=rtcp-mux')).toBe(rtcpMux);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('reads the peer: address, ports, rtcp-mux, negotiated payload types, direction', () => {
    const sdp = parseSdp(phoneSdp('192.0.2.10', 2000, ['a=rtcp:2003', 'a=rtcp-mux', 'a=rtpmap:100 red/8000', 'a=sendonly'], '0 8 100 101'))!;
    expect(peerMedia(sdp, 0)).toEqual({ address: '192.0.2.10', port: 2000, rtcpPort: 2003, rtcpMux: true, payloads: { pcmu: 0, pcma: 8, telephoneEvent: 101, redundancy: 100 }, direction: 'sendonly' });
  });

  it('reads a zero connection address as hold and keeps it zero in the rewritten SDP', () => {
    const sdp = parseSdp(phoneSdp('0.0.0.0', 2000))!;
    expect(peerMedia(sdp, 0)?.direction).toBe('sendonly');
    const out = rewriteSdp(sdp, { audioIndex: 0, address: ADVERTISED, local: LOCAL, rtcpMux: false, rtcpAttribute: true });
    expect(out).toContain('c=IN IP4 0.0.0.0');
    expect(out).toContain(`o=- 1545997027 1 IN IP4 ${ADVERTISED}`);
  });

  it('writes IP6 when the advertised address is IPv6', () => {
    const out = rewriteSdp(parseSdp(phoneSdp('192.0.2.10', 2000))!, { audioIndex: 0, address: '2001:db8::7', local: LOCAL, rtcpMux: false, rtcpAttribute: true });
    expect(out).toContain('c=IN IP6 2001:db8::7');
    expect(out).toContain('IN IP6 2001:db8::7\r\n');
  });

  it('finds no relayable audio in SRTP-only, G.729-only or disabled audio, and refuses host names', () => {
    expect(relayableAudioIndex(parseSdp(phoneSdp('192.0.2.10', 2000).replace('RTP/AVP', 'RTP/SAVP'))!)).toBe(-1);
    expect(relayableAudioIndex(parseSdp(phoneSdp('192.0.2.10', 2000, ['a=rtpmap:18 G729/8000'], '18'))!)).toBe(-1);
    expect(relayableAudioIndex(parseSdp(phoneSdp('192.0.2.10', 0))!)).toBe(-1);
    expect(peerMedia(parseSdp(phoneSdp('pbx.example.com', 2000))!, 0)).toBeUndefined();
    expect(parseSdp('not an sdp')).toBeUndefined();
  });
});
