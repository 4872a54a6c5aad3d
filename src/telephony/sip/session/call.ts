import type { LocalMedia, PeerMedia, RelayCall, SdpParty } from '../relay/types.js';

/** One fork of a call (ng `via-branch`): its own relay ports towards its own answerer. */
export interface Branch {
  /** The `via-branch` it was offered on; '' when the proxy sent none. */
  key: string;
  relay: RelayCall;
  /** The answerer's tags: a downstream fork may answer (183, 200) under several. */
  answererTags: Set<string>;
  answered: boolean;
  /** The relayed m= line of the offer; the answer's is at the same index (RFC 3264). */
  audioIndex: number;
  /** Who made the offer now awaiting its answer, and whether it offered rtcp-mux. */
  pendingOffer?: { sender: SdpParty; rtcpMux: boolean };
  peers: Partial<Record<SdpParty, PeerMedia>>;
  local: Partial<Record<SdpParty, LocalMedia>>;
}

/** One SIP call (one Call-ID) as the control plane tracks it. */
export interface SipCall {
  sipCallId: string;
  /** The neutral id the call is registered under: never the SIP Call-ID, which may hold a number or host name. */
  id: string;
  /** The tag of the party that made the first offer: the SDP offerer for the call's whole life. */
  offererTag: string;
  caller: SdpParty;
  branches: Map<string, Branch>;
  createdAt: number;
  lastSignalAt: number;
  answered: boolean;
}

export const otherParty = (party: SdpParty): SdpParty => (party === 'offerer' ? 'answerer' : 'offerer');
