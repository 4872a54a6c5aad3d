import type { LocalMedia, PeerMedia, RelayCall, RelayCallOptions, RtpRelay, SdpParty } from '../../../src/telephony/sip/relay/types.js';
import type { CallBinding } from '../../../src/telephony/sip/session/call-binding.js';

/** A relay call that moves no packets: ports from a counter, peers and closes recorded, idleness set by the test. */
export class FakeRelayCall implements RelayCall {
  readonly peers: Array<{ party: SdpParty; peer: PeerMedia }> = [];
  readonly ports: Partial<Record<SdpParty, LocalMedia>> = {};
  idle = 0;
  closedWith: string | undefined;
  packets = { offerer: 0, answerer: 0 };

  constructor(
    readonly options: RelayCallOptions,
    private readonly relay: FakeRelay,
  ) {}

  get callId(): string {
    return this.options.callId;
  }

  async local(party: SdpParty): Promise<LocalMedia> {
    this.ports[party] ??= this.relay.allocate();
    return this.ports[party];
  }

  setPeer(party: SdpParty, peer: PeerMedia): void {
    this.peers.push({ party, peer });
  }

  peer(party: SdpParty): PeerMedia | undefined {
    return this.peers.filter((p) => p.party === party).at(-1)?.peer;
  }

  idleMs(): number {
    return this.idle;
  }

  stats() {
    return {
      offerer: { packets: this.packets.offerer, bytes: this.packets.offerer * 172, errors: 0 },
      answerer: { packets: this.packets.answerer, bytes: this.packets.answerer * 172, errors: 0 },
    };
  }

  close(reason: string): void {
    if (this.closedWith !== undefined) return;
    this.closedWith = reason;
    this.relay.release(this);
  }
}

/** An RtpRelay over a small even-port range; `local` rejects once it is used up, as a real one runs out of ports. */
export class FakeRelay implements RtpRelay {
  readonly opened: FakeRelayCall[] = [];
  private next: number;
  private free: number[] = [];

  constructor(
    private readonly low = 40000,
    private readonly high = 40999,
  ) {
    this.next = low;
  }

  open(options: RelayCallOptions): FakeRelayCall {
    const call = new FakeRelayCall(options, this);
    this.opened.push(call);
    return call;
  }

  allocate(): LocalMedia {
    let port = this.free.pop();
    if (port === undefined) {
      if (this.next + 1 > this.high) throw new Error('Ran out of ports');
      port = this.next;
      this.next += 2;
    }
    return { rtpPort: port, rtcpPort: port + 1 };
  }

  release(call: FakeRelayCall): void {
    for (const local of Object.values(call.ports)) this.free.push(local.rtpPort);
  }

  live(): FakeRelayCall[] {
    return this.opened.filter((c) => c.closedWith === undefined);
  }

  totals() {
    const live = this.live();
    return { calls: live.length, ports: live.reduce((n, c) => n + Object.keys(c.ports).length * 2, 0) };
  }

  closeAll(): void {
    for (const call of this.live()) call.close('shutdown');
  }

  get range(): { low: number; high: number } {
    return { low: this.low, high: this.high };
  }
}

/** A CallBinding that records what the sessions told it. */
export class RecordingBinding implements CallBinding {
  readonly calls = new Map<string, { agentId?: string; state: 'ringing' | 'bridged' | 'ended'; endReason?: string }>();

  open(callId: string, agentId: string | undefined): void {
    this.calls.set(callId, { ...(agentId ? { agentId } : {}), state: 'ringing' });
  }
  bind(callId: string, agentId: string): void {
    const call = this.calls.get(callId);
    if (call) call.agentId = agentId;
  }
  answered(callId: string): void {
    const call = this.calls.get(callId);
    if (call) call.state = 'bridged';
  }
  end(callId: string, reason: string): void {
    const call = this.calls.get(callId);
    if (call) Object.assign(call, { state: 'ended', endReason: reason });
  }
}

/** A plain G.711 audio SDP as a SIP phone writes it. */
export function phoneSdp(address: string, port: number, extra: string[] = [], payloads = '0 8 101'): string {
  return [
    'v=0',
    `o=- 1545997027 1 IN IP4 ${address}`,
    's=tester',
    `c=IN IP4 ${address}`,
    't=0 0',
    `m=audio ${port} RTP/AVP ${payloads}`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-16',
    ...extra,
    '',
  ].join('\r\n');
}
