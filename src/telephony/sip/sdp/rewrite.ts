import { isIPv6 } from 'node:net';
import { write, type MediaDescription } from 'sdp-transform';
import type { LocalMedia } from '../relay/types.js';
import { isZeroAddress, negotiatedPayloads, payloadList, type Sdp } from './audio.js';

export interface RewriteOptions {
  /** The relayed audio m= line; every other m= line is disabled (port 0), so no media goes around Toneguard. */
  audioIndex: number;
  /** `sip.rtp.advertisedAddress`: written into `o=` and every `c=`. */
  address: string;
  /** Where the receiver of this SDP must send: the relay's ports for the party that receives it. */
  local: LocalMedia;
  /** Keep `a=rtcp-mux` (RTCP on the RTP port) when the SDP offers or accepts it. */
  rtcpMux: boolean;
  /** Write `a=rtcp` (rtpengine's default; its `no-rtcp-attribute` flag leaves it out). */
  rtcpAttribute: boolean;
}

const ICE_ATTRIBUTES = ['candidates', 'iceUfrag', 'icePwd', 'iceOptions', 'endOfCandidates', 'remoteCandidates'] as const;

/**
 * The SDP as the other party must see it: Toneguard's address in `o=` and `c=` (a zero hold
 * address stays zero), the relay's port in the audio `m=` and `a=rtcp`, only the payload types
 * the relay masks (their numbers unchanged), and no ICE candidates that would let the endpoints
 * reach each other around the relay. Every other line is kept as the library writes it.
 */
export function rewriteSdp(sdp: Sdp, options: RewriteOptions): string {
  const session = structuredClone(sdp);
  const ipVer = isIPv6(options.address) ? 6 : 4;
  session.origin = { ...session.origin, ipVer, address: options.address };
  if (session.connection) session.connection = advertised(session.connection, options.address, ipVer);
  stripIce(session);
  delete session.icelite;
  session.media.forEach((media, index) => {
    if (index !== options.audioIndex) {
      media.port = 0;
      return;
    }
    media.port = options.local.rtpPort;
    if (media.connection) media.connection = advertised(media.connection, options.address, ipVer);
    keepRelayedPayloads(media);
    stripIce(media);
    if (options.rtcpMux) media.rtcpMux = 'rtcp-mux';
    else delete media.rtcpMux;
    const rtcpPort = options.rtcpMux ? options.local.rtpPort : options.local.rtcpPort;
    if (!options.rtcpAttribute) delete media.rtcp;
    else if (media.rtcp?.address) media.rtcp = { port: rtcpPort, netType: 'IN', ipVer, address: options.address };
    else media.rtcp = { port: rtcpPort };
  });
  return write(session);
}

/** An SDP answer that refuses the relayed audio too (port 0 everywhere), for an answer that rejected it. */
export function disableAllMedia(sdp: Sdp, address: string): string {
  const session = structuredClone(sdp);
  const ipVer = isIPv6(address) ? 6 : 4;
  session.origin = { ...session.origin, ipVer, address };
  if (session.connection) session.connection = advertised(session.connection, address, ipVer);
  stripIce(session);
  for (const media of session.media) {
    media.port = 0;
    if (media.connection) media.connection = advertised(media.connection, address, ipVer);
    stripIce(media);
  }
  return write(session);
}

function advertised(connection: { version: number; ip: string }, address: string, ipVer: number): { version: number; ip: string } {
  return isZeroAddress(connection.ip) ? connection : { version: ipVer, ip: address };
}

function stripIce(target: Partial<Record<(typeof ICE_ATTRIBUTES)[number], unknown>>): void {
  for (const key of ICE_ATTRIBUTES) delete target[key];
}

/** Drops payload types the relay cannot mask (its masker decodes G.711 only), with their rtpmap, fmtp and rtcp-fb lines. */
function keepRelayedPayloads(media: MediaDescription): void {
  const negotiated = negotiatedPayloads(media);
  const kept = new Set([negotiated.pcmu, negotiated.pcma, negotiated.telephoneEvent, negotiated.redundancy].filter((p): p is number => p !== undefined));
  media.payloads = payloadList(media)
    .filter((p) => kept.has(p))
    .join(' ');
  media.rtp = media.rtp.filter((r) => kept.has(r.payload));
  media.fmtp = media.fmtp.filter((f) => kept.has(f.payload));
  if (media.rtcpFb) media.rtcpFb = media.rtcpFb.filter((f) => f.payload === '*' || kept.has(Number(f.payload)));
}
