/**
 * The seam between the SIP control plane (ng commands, SDP, call sessions) and the RTP relay.
 * The control plane decides which ports a side of a call uses and where its peer is; the relay
 * moves and masks the packets.
 */

/** Which SDP party a side is: the one that sent the offer, or the one that answered it. */
export type SdpParty = 'offerer' | 'answerer';

/** Payload types negotiated for one side's audio (RTP/AVP numbers as written in its SDP). */
export interface NegotiatedPayloads {
  /** 0 when PCMU was offered. */
  pcmu?: number;
  /** 8 when PCMA was offered. */
  pcma?: number;
  /** The `telephone-event/8000` payload type, if negotiated. */
  telephoneEvent?: number;
  /** The `red/8000` (RFC 2198) payload type, if negotiated. */
  redundancy?: number;
}

/** Where a side's peer said it receives media (from its SDP); the relay still latches onto the real source. */
export interface PeerMedia {
  address: string;
  port: number;
  /** Explicit `a=rtcp` port, else port + 1; ignored when `rtcpMux`. */
  rtcpPort?: number;
  rtcpMux: boolean;
  payloads: NegotiatedPayloads;
  /** `sendrecv` unless the SDP says otherwise (hold is `sendonly`/`inactive`). */
  direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
}

/** The ports Toneguard listens on for one side: that side's peer sends its RTP (and RTCP) here. */
export interface LocalMedia {
  rtpPort: number;
  rtcpPort: number;
}

export interface RelayCallOptions {
  /**
   * The neutral call id the call is registered under in the call registry. Not unique while a
   * call forks: each `via-branch` is a RelayCall of its own with the same callId (see `branch`).
   */
  callId: string;
  /**
   * Set on the second and later branches of a forked call (ng `via-branch`): another RelayCall of
   * this callId is open. The caller sends to one branch at a time (the one whose answer it took),
   * so a branch should join the call's media bridge only once caller media reaches it. The
   * control plane closes the branches that lose. Absent on the first (usually only) branch.
   */
  branch?: string;
  /** Which party is the customer: its audio is masked and captured (default `offerer`). */
  caller: SdpParty;
}

/** One call's media: two sides, each with its own local port pair. */
export interface RelayCall {
  readonly callId: string;
  /** Allocates (once; later calls return the same ports) the local ports for a side. */
  local(party: SdpParty): Promise<LocalMedia>;
  /** Sets or updates (re-INVITE, hold) where a side's peer receives media. */
  setPeer(party: SdpParty, peer: PeerMedia): void;
  /** Milliseconds since the last RTP packet from either side (or since the call opened). */
  idleMs(): number;
  /** Per-side packet and byte counters, for `query`. */
  stats(): Record<SdpParty, { packets: number; bytes: number; errors: number }>;
  /** Frees the ports and ends the call's bridge. Idempotent. */
  close(reason: string): void;
}

export interface RtpRelay {
  open(options: RelayCallOptions): RelayCall;
  /** Live calls and allocated ports, for `query`'s totals and metrics. */
  totals(): { calls: number; ports: number };
  /** Closes every call (shutdown). */
  closeAll(): void;
}
