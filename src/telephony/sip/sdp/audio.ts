import { isIP } from 'node:net';
import { parse, type MediaDescription, type SessionDescription } from 'sdp-transform';
import type { NegotiatedPayloads, PeerMedia } from '../relay/types.js';

export type Sdp = SessionDescription;
type Direction = PeerMedia['direction'];

const PCMU = 0;
const PCMA = 8;
const RELAYED_PROTOCOLS = new Set(['RTP/AVP', 'RTP/AVPF']);

/** Parses an SDP body; undefined unless it has a version, an origin and at least one media line. */
export function parseSdp(text: string): Sdp | undefined {
  const session = parse(text);
  if (session.version === undefined || !session.origin || !Array.isArray(session.media) || session.media.length === 0) return undefined;
  return session;
}

/** The payload type numbers an m= line lists (sdp-transform gives a number for a single one). */
export function payloadList(media: MediaDescription): number[] {
  return String(media.payloads ?? '')
    .split(' ')
    .filter((p) => p !== '')
    .map(Number)
    .filter((p) => Number.isInteger(p) && p >= 0 && p <= 127);
}

const rtpmapPayload = (media: MediaDescription, codec: string): number | undefined =>
  media.rtp.find((r) => r.codec.toLowerCase() === codec && Number(r.rate) === 8000 && payloadList(media).includes(r.payload))?.payload;

/** The payload types Toneguard can relay and mask: G.711 and, alongside, telephone-events and RFC 2198 redundancy. */
export function negotiatedPayloads(media: MediaDescription): NegotiatedPayloads {
  const listed = payloadList(media);
  const telephoneEvent = rtpmapPayload(media, 'telephone-event');
  const redundancy = rtpmapPayload(media, 'red');
  return {
    ...(listed.includes(PCMU) ? { pcmu: PCMU } : {}),
    ...(listed.includes(PCMA) ? { pcma: PCMA } : {}),
    ...(telephoneEvent !== undefined ? { telephoneEvent } : {}),
    ...(redundancy !== undefined ? { redundancy } : {}),
  };
}

/** Whether an m= line is audio Toneguard relays: plain RTP, not disabled, with PCMU or PCMA. */
export function isRelayableAudio(media: MediaDescription): boolean {
  if (media.type !== 'audio' || !RELAYED_PROTOCOLS.has(media.protocol) || !(media.port > 0)) return false;
  const payloads = negotiatedPayloads(media);
  return payloads.pcmu !== undefined || payloads.pcma !== undefined;
}

/** The first m= line Toneguard relays, or -1. */
export function relayableAudioIndex(session: Sdp): number {
  return session.media.findIndex(isRelayableAudio);
}

export function isZeroAddress(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

/**
 * Where the party that wrote this SDP receives the audio of m= line `index`; undefined when its
 * address is missing or not an IP literal (names are not resolved). A zero address is the old
 * form of hold (RFC 2543): that party receives nothing.
 */
export function peerMedia(session: Sdp, index: number): PeerMedia | undefined {
  const media = session.media[index];
  const address = media.connection?.ip ?? session.connection?.ip;
  if (!address || isIP(address) === 0) return undefined;
  let direction: Direction = media.direction ?? session.direction ?? 'sendrecv';
  if (isZeroAddress(address)) direction = direction === 'sendrecv' || direction === 'sendonly' ? 'sendonly' : 'inactive';
  return {
    address,
    port: media.port,
    ...(media.rtcp?.port ? { rtcpPort: media.rtcp.port } : {}),
    rtcpMux: media.rtcpMux === 'rtcp-mux',
    payloads: negotiatedPayloads(media),
    direction,
  };
}
