import { randomUUID } from 'node:crypto';
import type { NgCommand, SdpExchange } from '../ng/command.js';
import type { NgDict } from '../ng/document.js';
import { errorReply, okReply } from '../ng/replies.js';
import type { LocalMedia, RtpRelay, SdpParty } from '../relay/types.js';
import { isRelayableAudio, parseSdp, peerMedia, relayableAudioIndex, type Sdp } from '../sdp/audio.js';
import { disableAllMedia, rewriteSdp } from '../sdp/rewrite.js';
import type { CallBinding } from './call-binding.js';
import { otherParty, type Branch, type SipCall } from './call.js';
import { callStats } from './stats.js';

type Offer = Extract<NgCommand, { name: 'offer' }>;
type Answer = Extract<NgCommand, { name: 'answer' }>;
type Delete = Extract<NgCommand, { name: 'delete' }>;
type Query = Extract<NgCommand, { name: 'query' }>;

/** Forks one call may hold: bounds the ports and memory a single Call-ID can take. */
export const MAX_BRANCHES = 16;
const NOT_FOUND = "Call-ID not found or tags didn't match";

export interface SessionsOptions {
  relay: RtpRelay;
  binding: CallBinding;
  /** `sip.rtp.advertisedAddress`. */
  advertisedAddress: string;
  /** `sip.rtp.timeoutMs`: an answered call whose media stopped this long is freed. */
  timeoutMs: number;
  /** `sip.rtp.silentTimeoutMs`: the same for an unanswered offer or a call on hold. */
  silentTimeoutMs: number;
  now?: () => number;
  /** Told when a call ends, with why (`deleted`, `media_timeout`, `offer_timeout`, `shutdown`, ...). */
  onCallEnded?: (reason: string) => void;
}

/** Where an offer or answer lands: the branch (existing, or the key of a new one) and the SDP party that sent it. */
type Target = { sender: SdpParty; branch: Branch } | { sender: SdpParty; newBranch: string };

/**
 * The calls the proxy drives over ng: offer, answer, delete and query turned into relay calls,
 * rewritten SDP and registry entries, and the media timeouts. Knows nothing of sockets. Commands
 * on one Call-ID run one at a time, in arrival order; different calls do not wait for each other.
 */
export class SipSessions {
  private readonly calls = new Map<string, SipCall>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly now: () => number;

  constructor(private readonly options: SessionsOptions) {
    this.now = options.now ?? Date.now;
  }

  handle(command: NgCommand): Promise<NgDict> {
    switch (command.name) {
      case 'ping':
        return Promise.resolve(Object.assign(Object.create(null) as NgDict, { result: 'pong' }));
      case 'offer':
        return this.serial(command.callId, () => this.offer(command));
      case 'answer':
        return this.serial(command.callId, () => this.answer(command));
      case 'delete':
        return this.serial(command.callId, async () => this.delete(command));
      case 'query':
        return this.serial(command.callId, async () => this.query(command));
      case 'unsupported':
        return Promise.resolve(errorReply('Unrecognized command'));
    }
  }

  get size(): number {
    return this.calls.size;
  }

  /** Frees calls whose media stopped (`timeoutMs`), unanswered or held ones after `silentTimeoutMs`, and forks that lost. */
  sweep(): void {
    for (const call of [...this.calls.values()]) {
      if (this.queues.has(call.sipCallId)) continue;
      if (!call.answered) {
        if (this.now() - call.lastSignalAt >= this.options.silentTimeoutMs) this.end(call, 'offer_timeout');
        continue;
      }
      const idle = new Map([...call.branches.values()].map((b) => [b, b.relay.idleMs()] as const));
      const least = Math.min(...idle.values());
      const held = [...call.branches.values()].every((b) => !b.answered || Object.values(b.peers).some((p) => p.direction !== 'sendrecv'));
      if (least >= (held ? this.options.silentTimeoutMs : this.options.timeoutMs)) {
        this.end(call, 'media_timeout');
        continue;
      }
      // Media flows on one fork: the others, silent that long, lost (the caller took another answer).
      if (least < this.options.timeoutMs) for (const [branch, ms] of idle) if (ms >= this.options.timeoutMs) this.closeBranch(call, branch, 'fork_lost');
    }
  }

  /** Ends every call (shutdown). */
  closeAll(reason = 'shutdown'): void {
    for (const call of [...this.calls.values()]) this.end(call, reason);
  }

  private serial<T>(key: string, task: () => Promise<T>): Promise<T> {
    const run = (this.queues.get(key) ?? Promise.resolve()).then(task);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return run;
  }

  private async offer(command: Offer): Promise<NgDict> {
    const sdp = parseSdp(command.sdp);
    if (!sdp) return errorReply('Failed to parse SDP');
    const audioIndex = relayableAudioIndex(sdp);
    if (audioIndex < 0) return errorReply('No audio stream to relay: Toneguard relays RTP/AVP audio with PCMU or PCMA');
    const peer = peerMedia(sdp, audioIndex);
    if (!peer) return errorReply('The SDP has no IP address for its audio');
    let call = this.calls.get(command.callId);
    const created = !call;
    call ??= this.create(command);
    const target = this.offerTarget(call, command);
    if (!target) return errorReply('Unknown tag for this call-id');
    let branch: Branch;
    if ('branch' in target) branch = target.branch;
    else if (call.branches.size >= MAX_BRANCHES) return errorReply('Too many branches for this call-id');
    else branch = this.openBranch(call, target.newBranch);
    const local = await this.localFor(call, branch, otherParty(target.sender), created || !('branch' in target));
    if (!local) return errorReply('Ran out of ports');
    call.lastSignalAt = this.now();
    branch.audioIndex = audioIndex;
    branch.pendingOffer = { sender: target.sender, rtcpMux: peer.rtcpMux };
    branch.peers[target.sender] = peer;
    branch.relay.setPeer(target.sender, peer);
    this.rebind(call, command);
    return okReply({ sdp: this.rewrite(sdp, audioIndex, local, peer.rtcpMux, command) }, command.warnings);
  }

  private async answer(command: Answer): Promise<NgDict> {
    const call = this.calls.get(command.callId);
    if (!call) return errorReply('Unknown call-id');
    const target = this.answerTarget(call, command);
    if (!target) return errorReply('Unknown tag or via-branch for this call-id');
    const { branch, sender } = target;
    const sdp = parseSdp(command.sdp);
    if (!sdp) return errorReply('Failed to parse SDP');
    const media = sdp.media[branch.audioIndex];
    call.lastSignalAt = this.now();
    this.markAnswered(call, branch, command);
    if (!media || !(media.port > 0)) return okReply({ sdp: disableAllMedia(sdp, this.options.advertisedAddress) }, command.warnings);
    if (!isRelayableAudio(media)) return errorReply('The answer chose no PCMU or PCMA audio');
    const peer = peerMedia(sdp, branch.audioIndex);
    if (!peer) return errorReply('The SDP has no IP address for its audio');
    // RTCP is multiplexed only when the offer proposed it and the answer accepted it (RFC 5761).
    const rtcpMux = (branch.pendingOffer?.rtcpMux ?? false) && peer.rtcpMux;
    const answered = { ...peer, rtcpMux };
    branch.peers[sender] = answered;
    branch.relay.setPeer(sender, answered);
    const offering = branch.peers[otherParty(sender)];
    if (offering && offering.rtcpMux !== rtcpMux) {
      branch.peers[otherParty(sender)] = { ...offering, rtcpMux };
      branch.relay.setPeer(otherParty(sender), { ...offering, rtcpMux });
    }
    branch.pendingOffer = undefined;
    const local = await this.localFor(call, branch, otherParty(sender), false);
    if (!local) return errorReply('Ran out of ports');
    return okReply({ sdp: this.rewrite(sdp, branch.audioIndex, local, rtcpMux, command) }, command.warnings);
  }

  private delete(command: Delete): NgDict {
    const call = this.calls.get(command.callId);
    const notFound = () => (command.flags.has('fatal') ? errorReply(NOT_FOUND) : okReply({}, [NOT_FOUND]));
    if (!call || (command.fromTag && !this.knowsTag(call, command.fromTag))) return notFound();
    const stats = command.flags.has('fast') ? {} : callStats(call);
    const scoped = this.deleteScope(call, command);
    if (scoped === 'unknown') return notFound();
    if (scoped && call.branches.size > 1) this.closeBranch(call, scoped, 'deleted');
    else this.end(call, 'deleted');
    return okReply(stats);
  }

  private query(command: Query): NgDict {
    const call = this.calls.get(command.callId);
    return call ? okReply(callStats(call)) : errorReply('Unknown call-id');
  }

  private create(command: Offer): SipCall {
    const now = this.now();
    const call: SipCall = {
      sipCallId: command.callId,
      id: `sip-${randomUUID()}`,
      offererTag: command.fromTag,
      // The customer placed the call: the offerer, unless the offer came in a reply (late offer in a 200).
      caller: command.binding.caller ?? (command.fromReply ? 'answerer' : 'offerer'),
      branches: new Map(),
      createdAt: now,
      lastSignalAt: now,
      answered: false,
    };
    this.calls.set(call.sipCallId, call);
    this.options.binding.open(call.id, command.binding.agentId);
    return call;
  }

  private openBranch(call: SipCall, key: string): Branch {
    const forked = call.branches.size > 0;
    const relay = this.options.relay.open({ callId: call.id, caller: call.caller, ...(forked ? { branch: key } : {}) });
    const branch: Branch = { key, relay, answererTags: new Set(), answered: false, audioIndex: 0, peers: {}, local: {} };
    call.branches.set(key, branch);
    return branch;
  }

  /** The relay's ports for `party`; when they cannot be had, a branch (or call) just opened for them is given back. */
  private async localFor(call: SipCall, branch: Branch, party: SdpParty, fresh: boolean): Promise<LocalMedia | undefined> {
    try {
      const local = await branch.relay.local(party);
      branch.local[party] = local;
      return local;
    } catch {
      if (fresh) {
        if (call.branches.size > 1) this.closeBranch(call, branch, 'no_ports');
        else this.end(call, 'no_ports');
      }
      return undefined;
    }
  }

  /**
   * The branch an offer is for. From the first offerer: the fork its to-tag names, else the one
   * answered fork (an in-dialog re-offer, whatever its via-branch), else its via-branch (a new one
   * forks). From an answerer (a re-offer the other way): the fork that tag answered on.
   */
  private offerTarget(call: SipCall, command: Offer): Target | undefined {
    const branches = [...call.branches.values()];
    if (command.fromTag === call.offererTag) {
      const byTag = command.toTag ? branches.find((b) => b.answererTags.has(command.toTag!)) : undefined;
      if (byTag) return { sender: 'offerer', branch: byTag };
      const answered = branches.filter((b) => b.answered);
      if (command.toTag && answered.length === 1) return { sender: 'offerer', branch: answered[0] };
      const key = command.viaBranch ?? '';
      const byKey = call.branches.get(key);
      if (byKey) return { sender: 'offerer', branch: byKey };
      if (!command.viaBranch && branches.length === 1) return { sender: 'offerer', branch: branches[0] };
      return { sender: 'offerer', newBranch: key };
    }
    const answeredBy = branches.find((b) => b.answererTags.has(command.fromTag));
    if (answeredBy) return { sender: 'answerer', branch: answeredBy };
    // The answerer offers in an early dialog (UPDATE) before its answer named its tag.
    if (command.toTag === call.offererTag) {
      const early = (command.viaBranch ? call.branches.get(command.viaBranch) : undefined) ?? only(branches.filter((b) => b.answererTags.size === 0));
      if (early) {
        early.answererTags.add(command.fromTag);
        return { sender: 'answerer', branch: early };
      }
    }
    return undefined;
  }

  /**
   * The branch an answer is for and the party that sent it: to the first offerer's offer, the
   * answerer's (fork named by via-branch or to-tag, else the only fork still unanswered); to a
   * re-offer of an answerer, the first offerer's.
   */
  private answerTarget(call: SipCall, command: Answer): { sender: SdpParty; branch: Branch } | undefined {
    const branches = [...call.branches.values()];
    if (command.fromTag === call.offererTag) {
      const branch =
        (command.viaBranch ? call.branches.get(command.viaBranch) : undefined) ??
        branches.find((b) => b.answererTags.has(command.toTag)) ??
        (branches.length === 1 ? branches[0] : only(branches.filter((b) => !b.answered)));
      return branch ? { sender: 'answerer', branch } : undefined;
    }
    const branch = branches.find((b) => b.answererTags.has(command.fromTag));
    return branch && command.toTag === call.offererTag ? { sender: 'offerer', branch } : undefined;
  }

  private markAnswered(call: SipCall, branch: Branch, command: Answer): void {
    if (command.fromTag === call.offererTag) branch.answererTags.add(command.toTag);
    branch.answered = true;
    if (!call.answered) {
      call.answered = true;
      this.options.binding.answered(call.id);
    }
    this.rebind(call, command);
  }

  private rebind(call: SipCall, command: SdpExchange): void {
    if (command.binding.agentId) this.options.binding.bind(call.id, command.binding.agentId);
  }

  private rewrite(sdp: Sdp, audioIndex: number, local: LocalMedia, rtcpMux: boolean, command: SdpExchange): string {
    return rewriteSdp(sdp, { audioIndex, address: this.options.advertisedAddress, local, rtcpMux, rtcpAttribute: !command.flags.has('no-rtcp-attribute') });
  }

  private knowsTag(call: SipCall, tag: string): boolean {
    return tag === call.offererTag || [...call.branches.values()].some((b) => b.answererTags.has(tag));
  }

  /**
   * What a delete removes, as rtpengine scopes it: a via-branch without a to-tag names one fork, a
   * to-tag the fork it answered; anything else (a BYE, CANCEL or failure) the whole call (undefined).
   */
  private deleteScope(call: SipCall, command: Delete): Branch | undefined | 'unknown' {
    if (command.viaBranch && !command.toTag) return call.branches.get(command.viaBranch) ?? 'unknown';
    if (command.toTag && command.toTag !== call.offererTag) return [...call.branches.values()].find((b) => b.answererTags.has(command.toTag!));
    return undefined;
  }

  private closeBranch(call: SipCall, branch: Branch, reason: string): void {
    branch.relay.close(reason);
    call.branches.delete(branch.key);
  }

  private end(call: SipCall, reason: string): void {
    for (const branch of call.branches.values()) branch.relay.close(reason);
    call.branches.clear();
    this.calls.delete(call.sipCallId);
    this.options.binding.end(call.id, reason);
    this.options.onCallEnded?.(reason);
  }
}

function only<T>(items: T[]): T | undefined {
  return items.length === 1 ? items[0] : undefined;
}
