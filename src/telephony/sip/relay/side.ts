import type { RemoteInfo, Socket } from 'node:dgram';
import type { FrameCount, Metrics } from '../../../audit/metrics.js';
import type { LegRole } from '../../../media/types.js';
import type { AudioCodec } from '../rtp/payloads.js';
import { Latch, type Endpoint } from './latch.js';
import type { PortPair } from './port-pool.js';
import { PacketBucket } from './rate-limit.js';
import type { LocalMedia, PeerMedia, SdpParty } from './types.js';

export interface SideCounters {
  packets: number;
  bytes: number;
  rtcpPackets: number;
  sent: number;
  /** Refused before use: larger than any RTP packet we accept. */
  oversized: number;
  /** Not RTP, or an RTCP compound that does not parse. */
  garbage: number;
  /** From a source other than the latched peer. */
  foreign: number;
  /** Over the side's packet rate. */
  rateLimited: number;
  /** Payload types this side did not negotiate (the caller side counts them in its stream). */
  unknownPayload: number;
  sendErrors: number;
}

export type DropReason = 'oversized' | 'garbage' | 'foreign' | 'rateLimited' | 'unknownPayload';
const DROP_LABELS: Record<DropReason, string> = {
  oversized: 'oversized',
  garbage: 'garbage',
  foreign: 'foreign_source',
  rateLimited: 'rate_limited',
  unknownPayload: 'unknown_payload',
};

/** The media frame metrics the Twilio streams also feed, by leg: packets in, packets out, drops by reason. */
class SideTally {
  readonly in: FrameCount;
  readonly out: FrameCount;
  private readonly dropped = new Map<DropReason, FrameCount>();

  constructor(
    private readonly metrics: Metrics,
    private readonly leg: LegRole,
  ) {
    this.in = metrics.framesIn.labels(leg);
    this.out = metrics.framesOut.labels(leg);
  }

  drop(reason: DropReason): void {
    let count = this.dropped.get(reason);
    if (!count) {
      count = this.metrics.framesDropped.labels(this.leg, DROP_LABELS[reason]);
      this.dropped.set(reason, count);
    }
    count.inc();
  }
}

export type PacketHandler = (side: RelaySide, buf: Buffer, from: RemoteInfo, nowMs: number) => void;

/** One SDP party of a call: its local socket pair, where its peer is, and what it has sent. */
export class RelaySide {
  pair?: PortPair;
  allocating?: Promise<LocalMedia>;
  peer?: PeerMedia;
  readonly rtpLatch = new Latch();
  readonly rtcpLatch = new Latch();
  readonly bucket = new PacketBucket();
  /** The audio codec this side's peer was last heard sending. */
  heard: AudioCodec | null = null;
  readonly counters: SideCounters = {
    packets: 0,
    bytes: 0,
    rtcpPackets: 0,
    sent: 0,
    oversized: 0,
    garbage: 0,
    foreign: 0,
    rateLimited: 0,
    unknownPayload: 0,
    sendErrors: 0,
  };

  private readonly tally?: SideTally;

  constructor(
    readonly party: SdpParty,
    role: LegRole,
    metrics?: Metrics,
  ) {
    this.tally = metrics && new SideTally(metrics, role);
  }

  /** Counts a refused datagram. */
  drop(reason: DropReason): void {
    this.counters[reason]++;
    this.tally?.drop(reason);
  }

  /** Counts an accepted RTP packet. */
  accepted(bytes: number): void {
    this.counters.packets++;
    this.counters.bytes += bytes;
    this.tally?.in.inc();
  }

  get errors(): number {
    const c = this.counters;
    return c.oversized + c.garbage + c.foreign + c.rateLimited + c.unknownPayload;
  }

  listen(pair: PortPair, onRtpPort: PacketHandler, onRtcpPort: PacketHandler, now: () => number): void {
    this.pair = pair;
    // A socket error (ICMP unreachable on some platforms) concerns one datagram; the socket stays.
    const ignore = () => undefined;
    pair.rtp.on('error', ignore);
    pair.rtcp.on('error', ignore);
    pair.rtp.on('message', (buf, from) => onRtpPort(this, buf, from, now()));
    pair.rtcp.on('message', (buf, from) => onRtcpPort(this, buf, from, now()));
  }

  setPeer(peer: PeerMedia): void {
    this.peer = peer;
    const address = usable(peer.address) ? peer.address : null;
    this.rtpLatch.expect(address && peer.port > 0 ? { address, port: peer.port } : null);
    const rtcpPort = peer.rtcpMux ? peer.port : (peer.rtcpPort ?? peer.port + 1);
    this.rtcpLatch.expect(address && peer.port > 0 ? { address, port: rtcpPort } : null);
  }

  /** Where this side's RTP goes: the latched source, else the SDP address; null on hold or before any SDP. */
  rtpDestination(): Endpoint | null {
    const peer = this.peer;
    if (!peer || peer.port === 0 || peer.direction === 'sendonly' || peer.direction === 'inactive') return null;
    return this.rtpLatch.endpoint ?? (usable(peer.address) ? { address: peer.address, port: peer.port } : null);
  }

  rtcpDestination(): Endpoint | null {
    const peer = this.peer;
    if (!peer || peer.port === 0) return null;
    const learned = this.rtcpLatch.endpoint ?? (peer.rtcpMux ? this.rtpLatch.endpoint : null);
    if (learned) return learned;
    if (!usable(peer.address)) return null;
    return { address: peer.address, port: peer.rtcpMux ? peer.port : (peer.rtcpPort ?? peer.port + 1) };
  }

  sendRtp(packet: Uint8Array): void {
    const to = this.rtpDestination();
    if (to && this.pair) this.send(this.pair.rtp, packet, to);
  }

  sendRtcp(packet: Uint8Array): void {
    const to = this.rtcpDestination();
    if (to && this.pair) this.send(this.peer?.rtcpMux ? this.pair.rtp : this.pair.rtcp, packet, to);
  }

  private send(socket: Socket, packet: Uint8Array, to: Endpoint): void {
    this.counters.sent++;
    this.tally?.out.inc();
    try {
      socket.send(packet, to.port, to.address, (err) => {
        if (err) this.counters.sendErrors++;
      });
    } catch {
      // The socket closed under a packet still in flight through the bridge (call teardown).
      this.counters.sendErrors++;
    }
  }
}

/** `0.0.0.0` (RFC 3264 §8.4 hold) and an empty address name no destination. */
function usable(address: string): boolean {
  return address !== '' && address !== '0.0.0.0' && address !== '::';
}
