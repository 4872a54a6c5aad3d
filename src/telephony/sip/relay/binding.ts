import type { Logger } from '../../../audit/logger.js';
import type { LegInput, LegOutput } from '../../../media/types.js';
import type { RelayMedia } from './media-legs.js';

/** What a relay call (one branch) offers the call's media binding. */
export interface BranchMedia {
  /** Masked caller audio for this branch's agent; false when it cannot be sent. */
  toAgent(samples: Int16Array): boolean;
  /** Agent audio (with any feedback beep) back to this branch's caller. */
  toCaller(samples: Int16Array): boolean;
}

export type BindingState = 'pending' | 'attached' | 'failed' | 'ended';

/**
 * One call's link to its media bridge, shared by all its relay calls: a forked call (ng
 * `via-branch`) has one relay call per branch but one bridge, one masker, one capture and one
 * recording. The branch the caller's media last reached is the active one: the bridge's masked
 * audio goes to its agent, and only its agent's audio (or any branch's before the caller has
 * sent anything: early media) goes back. The bridge ends when the last branch closes.
 */
export class MediaBinding {
  state: BindingState = 'pending';
  private callerInput?: LegInput;
  private agentInput?: LegInput;
  private active: BranchMedia | null = null;
  /** The branch whose agent audio is inside the bridge right now. */
  private speaking: BranchMedia | null = null;
  private readonly members = new Set<BranchMedia>();

  constructor(
    readonly callId: string,
    private readonly media: RelayMedia,
    private readonly logger: Logger | undefined,
    private readonly onEmpty: () => void,
  ) {}

  add(branch: BranchMedia): void {
    this.members.add(branch);
  }

  /**
   * Joins the bridge once the call is registered: the caller leg opens it, the agent leg joins at
   * once (the PBX plays its own ringback; the bridge's would only mix into it).
   */
  join(): void {
    if (this.state !== 'pending') return;
    const caller = this.media.attach(this.callId, 'caller', this.output('caller'));
    if ('reason' in caller) {
      // Not registered yet: try again with the next packet. Anything else will not heal: caller audio is dropped, never passed unmasked.
      if (caller.reason !== 'unknown_call') this.failed(caller.reason);
      return;
    }
    this.callerInput = caller.input;
    const agent = this.media.attach(this.callId, 'agent', this.output('agent'));
    if ('reason' in agent) {
      this.failed(agent.reason);
      this.media.end(this.callId, 'relay_media_failed');
      return;
    }
    this.agentInput = agent.input;
    this.state = 'attached';
  }

  /** Caller media reached `branch`: it becomes the one the bridge's audio goes to. */
  callerInputFor(branch: BranchMedia): LegInput | undefined {
    this.active = branch;
    return this.callerInput;
  }

  /** Passes a branch's agent audio into the bridge, if it is the branch the caller talks to. */
  agentAudio(branch: BranchMedia, samples: Int16Array): void {
    if (!this.agentInput || (this.active !== null && this.active !== branch)) return;
    this.speaking = branch;
    try {
      this.agentInput.audio(samples);
    } finally {
      this.speaking = null;
    }
  }

  leave(branch: BranchMedia, reason: string): void {
    if (!this.members.delete(branch)) return;
    if (this.active === branch) this.active = null;
    if (this.members.size > 0) return;
    if (this.state === 'attached') this.media.end(this.callId, reason);
    this.state = 'ended';
    this.onEmpty();
  }

  private failed(reason: string): void {
    this.state = 'failed';
    this.callerInput = undefined;
    this.logger?.warn({ callId: this.callId, reason }, 'SIP call media could not join its bridge; caller audio is dropped');
  }

  /** What the bridge may do to a leg: `agent` receives the masked caller audio, `caller` the agent's. */
  private output(leg: 'caller' | 'agent'): LegOutput {
    return {
      sendAudio: (samples) => (leg === 'agent' ? (this.active?.toAgent(samples) ?? false) : (this.speaking?.toCaller(samples) ?? false)),
      sendMark: () => undefined,
      clear: () => undefined,
      close: () => {
        // The bridge ended (hang-up reported elsewhere, shutdown): no more audio crosses, in either direction.
        this.state = 'ended';
        this.callerInput = undefined;
        this.agentInput = undefined;
      },
    };
  }
}
