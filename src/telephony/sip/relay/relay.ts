import { randomInt } from 'node:crypto';
import type { RemoteInfo } from 'node:dgram';
import type { Logger } from '../../../audit/logger.js';
import type { Metrics } from '../../../audit/metrics.js';
import { CallerStream, DEFAULT_JITTER, type CallerStreamStats } from '../rtp/caller-stream.js';
import type { JitterBufferOptions } from '../rtp/jitter-buffer.js';
import { OutboundStream } from '../rtp/outbound-stream.js';
import { isRtcp, parseRtp, writeHeader, type RtpPacket } from '../rtp/packet.js';
import { decodeG711, encodeG711, isAudio, payloadKind, sendCodec } from '../rtp/payloads.js';
import { mapRtcpSsrcs } from '../rtp/rtcp.js';
import { MediaBinding, type BindingState, type BranchMedia } from './binding.js';
import type { Latch } from './latch.js';
import type { RelayMedia } from './media-legs.js';
import { PortPool, type PortRange } from './port-pool.js';
import { RelaySide, type SideCounters } from './side.js';
import type { LocalMedia, PeerMedia, RelayCall, RelayCallOptions, RtpRelay, SdpParty } from './types.js';

/** Larger than any G.711 packet we accept (200 ms plus headers); bigger datagrams are refused unread. */
const MAX_PACKET_BYTES = 1700;
const MAX_AUDIO_BYTES = 1600;
const HEADER = 12;
/** The jitter buffers' timeouts are checked this often: one timer for the whole relay. */
const POLL_MS = 20;

export interface RtpRelayOptions {
  media: RelayMedia;
  portRange: PortRange;
  /** The address the RTP sockets bind (default every IPv4 interface). */
  bindAddress?: string;
  logger?: Logger;
  /** Feeds the media frame counters (in, out, dropped by reason) under the legs `caller` and `agent`. */
  metrics?: Metrics;
  jitter?: JitterBufferOptions;
  now?: () => number;
}

export interface RelayCallCounters {
  sides: Record<SdpParty, SideCounters>;
  caller: CallerStreamStats;
  /** Packets sent in the re-originated stream towards the agent. */
  agentStreamPackets: number;
  /** How the call's media is joined to its bridge. */
  media: BindingState;
  relatches: number;
}

export interface SipRtpRelay extends RtpRelay {
  open(options: RelayCallOptions): SipRelayCall;
}

export interface SipRelayCall extends RelayCall {
  counters(): RelayCallCounters;
}

export function createRtpRelay(options: RtpRelayOptions): SipRtpRelay {
  const pool = new PortPool(options.portRange, options.bindAddress ?? '0.0.0.0');
  const calls = new Map<string, Call>();
  const bindings = new Map<string, MediaBinding>();
  const polled = new Set<Call>();
  let timer: NodeJS.Timeout | undefined;
  const now = options.now ?? (() => performance.now());
  const key = (o: RelayCallOptions) => `${o.callId}\0${o.branch ?? ''}`;

  const context: RelayContext = {
    pool,
    logger: options.logger,
    metrics: options.metrics,
    jitter: options.jitter ?? DEFAULT_JITTER,
    now,
    watch(call) {
      polled.add(call);
      timer ??= setInterval(() => {
        const at = now();
        for (const c of polled) {
          c.poll(at);
          if (!c.pending) polled.delete(c);
        }
        if (polled.size === 0) {
          clearInterval(timer);
          timer = undefined;
        }
      }, POLL_MS).unref();
    },
    forget(call) {
      polled.delete(call);
      if (calls.get(call.key) === call) calls.delete(call.key);
    },
  };

  const bindingFor = (callId: string): MediaBinding => {
    let binding = bindings.get(callId);
    if (!binding) {
      const created = new MediaBinding(callId, options.media, options.logger, () => {
        if (bindings.get(callId) === created) bindings.delete(callId);
      });
      bindings.set(callId, created);
      binding = created;
    }
    return binding;
  };

  return {
    open(callOptions) {
      const id = key(callOptions);
      if (calls.has(id)) throw new Error('this relay call (call id and branch) is already open');
      const call = new Call(callOptions, id, bindingFor(callOptions.callId), context);
      calls.set(id, call);
      return call;
    },
    totals: () => ({ calls: calls.size, ports: pool.allocated }),
    closeAll() {
      for (const call of [...calls.values()]) call.close('shutdown');
    },
  };
}

interface RelayContext {
  pool: PortPool;
  logger?: Logger;
  metrics?: Metrics;
  jitter: JitterBufferOptions;
  now: () => number;
  watch(call: Call): void;
  forget(call: Call): void;
}

/**
 * One call (one branch of a forked call): the caller's RTP goes through the jitter buffer and the
 * bridge's masker and leaves towards the agent as a re-originated stream; the agent's RTP goes
 * through the bridge (which records it and may mix the capture's feedback beep) and back to the
 * caller with its own header. Nothing from the caller reaches the agent except what the bridge sent.
 */
class Call implements SipRelayCall, BranchMedia {
  readonly callId: string;
  private readonly sides: Record<SdpParty, RelaySide>;
  private readonly callerSide: RelaySide;
  private readonly agentSide: RelaySide;
  private readonly callerStream: CallerStream;
  private readonly outbound: OutboundStream;
  /** The agent packet whose audio is inside the bridge right now: its header goes back to the caller. */
  private agentPacket: RtpPacket | null = null;
  private readonly agentDecoded = new Int16Array(MAX_AUDIO_BYTES);
  private callerSsrc: number | null = null;
  private lastPacketAt: number;
  private closed = false;

  constructor(
    options: RelayCallOptions,
    readonly key: string,
    private readonly binding: MediaBinding,
    private readonly ctx: RelayContext,
  ) {
    binding.add(this);
    this.callId = options.callId;
    const agentParty = options.caller === 'offerer' ? 'answerer' : 'offerer';
    this.callerSide = new RelaySide(options.caller, 'caller', ctx.metrics);
    this.agentSide = new RelaySide(agentParty, 'agent', ctx.metrics);
    this.sides = { [options.caller]: this.callerSide, [agentParty]: this.agentSide } as Record<SdpParty, RelaySide>;
    this.lastPacketAt = ctx.now();
    this.callerStream = new CallerStream(
      {},
      {
        audio: (samples) => this.binding.callerInputFor(this)?.audio(samples),
        key: (key) => this.binding.callerInputFor(this)?.dtmf(key),
        discontinuity: (samples) => this.outbound.skip(samples),
      },
      ctx.jitter,
    );
    this.outbound = new OutboundStream(randomInt(1, 0x100000000), (packet) => this.agentSide.sendRtp(packet), {
      sequence: randomInt(0, 0x10000),
      timestamp: randomInt(0, 0x100000000),
    });
  }

  get pending(): number {
    return this.callerStream.pending;
  }

  local(party: SdpParty): Promise<LocalMedia> {
    const side = this.sides[party];
    side.allocating ??= this.allocate(side);
    return side.allocating;
  }

  setPeer(party: SdpParty, peer: PeerMedia): void {
    if (this.closed) return;
    const side = this.sides[party];
    side.setPeer(peer);
    if (side === this.callerSide) this.callerStream.setPayloads(peer.payloads);
    this.binding.join();
  }

  idleMs(): number {
    return Math.max(0, this.ctx.now() - this.lastPacketAt);
  }

  stats(): Record<SdpParty, { packets: number; bytes: number; errors: number }> {
    const caller = this.callerStream.stats;
    const of = (side: RelaySide) => ({
      packets: side.counters.packets,
      bytes: side.counters.bytes,
      errors: side.errors + (side === this.callerSide ? caller.unknownPayload + caller.malformed : 0),
    });
    return { offerer: of(this.sides.offerer), answerer: of(this.sides.answerer) };
  }

  counters(): RelayCallCounters {
    return {
      sides: { offerer: { ...this.sides.offerer.counters }, answerer: { ...this.sides.answerer.counters } },
      caller: this.callerStream.stats,
      agentStreamPackets: this.outbound.packets,
      media: this.binding.state,
      relatches: Object.values(this.sides).reduce((n, s) => n + s.rtpLatch.relatches + s.rtcpLatch.relatches, 0),
    };
  }

  poll(nowMs: number): void {
    if (!this.closed) this.callerStream.poll(nowMs);
  }

  close(reason: string): void {
    if (this.closed) return;
    this.callerStream.flush();
    this.closed = true;
    this.ctx.forget(this);
    for (const side of Object.values(this.sides)) {
      if (side.pair) this.ctx.pool.release(side.pair);
      side.pair = undefined;
    }
    this.binding.leave(this, reason);
  }

  private async allocate(side: RelaySide): Promise<LocalMedia> {
    if (this.closed) throw new Error('the relay call is closed');
    const pair = await this.ctx.pool.allocate();
    if (this.closed) {
      this.ctx.pool.release(pair);
      throw new Error('the relay call is closed');
    }
    side.listen(pair, (s, buf, from, at) => this.onRtpPort(s, buf, from, at), (s, buf, from, at) => this.onRtcp(s, buf, from, at), this.ctx.now);
    return { rtpPort: pair.rtpPort, rtcpPort: pair.rtcpPort };
  }

  toAgent(samples: Int16Array): boolean {
    const payloads = this.agentSide.peer?.payloads;
    const codec = payloads && sendCodec(payloads, this.agentSide.heard, this.callerStream.codec);
    if (!payloads || !codec) return false;
    this.outbound.push(samples, codec, payloads[codec] as number);
    return true;
  }

  /** Agent audio back to the caller under the agent packet's own header (sequence, timestamp, SSRC, marker). */
  toCaller(samples: Int16Array): boolean {
    const header = this.agentPacket;
    const payloads = this.callerSide.peer?.payloads;
    const codec = payloads && sendCodec(payloads, this.callerSide.heard, this.agentSide.heard);
    if (!header || !payloads || !codec) return false;
    const packet = Buffer.allocUnsafe(HEADER + samples.length);
    writeHeader(packet, { ...header, payloadType: payloads[codec] as number });
    encodeG711(codec, samples, packet.subarray(HEADER));
    this.callerSide.sendRtp(packet);
    return true;
  }

  /** The checks every datagram passes before it is read, cheapest first, so a flood costs little. */
  private admit(side: RelaySide, buf: Buffer, from: RemoteInfo, latch: Latch, nowMs: number): boolean {
    if (this.closed) return false;
    if (buf.length > MAX_PACKET_BYTES) side.drop('oversized');
    else if (!latch.admits(from.address, from.port)) side.drop('foreign');
    else if (!side.bucket.take(nowMs)) side.drop('rateLimited');
    else return true;
    return false;
  }

  private onRtpPort(side: RelaySide, buf: Buffer, from: RemoteInfo, nowMs: number): void {
    // RFC 5761 §4: RTCP on the RTP port is told apart by its packet type.
    if (isRtcp(buf)) return this.onRtcp(side, buf, from, nowMs);
    if (!this.admit(side, buf, from, side.rtpLatch, nowMs)) return;
    const packet = parseRtp(buf);
    if (!packet) return side.drop('garbage');
    side.rtpLatch.learn(from.address, from.port);
    side.accepted(buf.length);
    this.lastPacketAt = nowMs;
    this.binding.join();
    if (side === this.callerSide) {
      this.callerSsrc = packet.ssrc;
      this.callerStream.push(packet, nowMs);
      if (this.callerStream.pending > 0) this.ctx.watch(this);
    } else {
      this.fromAgent(packet, buf);
    }
  }

  private fromAgent(packet: RtpPacket, buf: Buffer): void {
    const side = this.agentSide;
    const kind = side.peer ? payloadKind(side.peer.payloads, packet.payloadType) : null;
    if (isAudio(kind)) {
      side.heard = kind;
      const n = packet.payload.length;
      if (n === 0 || n > MAX_AUDIO_BYTES) return;
      const samples = this.agentDecoded.subarray(0, n);
      decodeG711(kind, packet.payload, samples);
      this.agentPacket = packet;
      try {
        this.binding.agentAudio(this, samples);
      } finally {
        this.agentPacket = null;
      }
    } else if (kind === 'telephone-event') {
      // The agent's own keypad is not sensitive: its events reach the caller unchanged.
      const pt = this.callerSide.peer?.payloads.telephoneEvent;
      if (pt === undefined) return;
      const copy = Buffer.from(buf);
      copy[1] = (copy[1] & 0x80) | pt;
      this.callerSide.sendRtp(copy);
    } else {
      side.drop('unknownPayload');
    }
  }

  private onRtcp(side: RelaySide, buf: Buffer, from: RemoteInfo, nowMs: number): void {
    if (!this.admit(side, buf, from, side.rtcpLatch, nowMs)) return;
    const egress = this.outbound.ssrc;
    const caller = this.callerSsrc;
    // The caller's SSRC exists towards the agent only as the re-originated stream's, and back.
    const mapped = mapRtcpSsrcs(buf, (ssrc) => (ssrc === caller ? egress : ssrc === egress && caller !== null ? caller : ssrc));
    if (!mapped) return side.drop('garbage');
    side.rtcpLatch.learn(from.address, from.port);
    side.counters.rtcpPackets++;
    (side === this.callerSide ? this.agentSide : this.callerSide).sendRtcp(mapped);
  }
}
