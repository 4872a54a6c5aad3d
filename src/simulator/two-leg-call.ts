import type { KeyedAudio } from './audio.js';
import { playKeyed, streamAudio, type FrameSink } from './pacing.js';
import type { PlayedCall } from './player.js';

/** A platform's media stream client, as a played call drives it. */
export interface LegStreamClient extends FrameSink {
  sendDtmf(digit: string): void;
  stop(): Promise<void>;
  receivedAudio(): Int16Array;
}

/**
 * What every played call does alike, whatever the platform: the caller's keyed audio with the
 * platform's DTMF event at each tone's end, the agent's audio, both streams stopped at hang-up,
 * and what the agent heard. Each platform says only how it reports the end of the call.
 */
export abstract class TwoLegCall implements PlayedCall {
  abstract readonly callId: string;
  abstract readonly agentCallId: string;
  abstract readonly caller: LegStreamClient;
  abstract readonly agent: LegStreamClient;

  /** The platform's report that the call ended, sent once both streams have stopped. */
  protected abstract reportHangUp(): Promise<void>;

  async callerPlays(audio: Int16Array | KeyedAudio, speed = 1, dtmfEvents = true): Promise<void> {
    await playKeyed(this.caller, audio, speed, dtmfEvents ? (digit) => this.caller.sendDtmf(digit) : undefined);
  }

  async agentPlays(audio: Int16Array, speed = 1): Promise<void> {
    await streamAudio(this.agent, audio, speed);
  }

  async hangUp(): Promise<void> {
    await Promise.all([this.caller.stop(), this.agent.stop()]);
    await this.reportHangUp();
  }

  agentHeard(): Int16Array {
    return this.agent.receivedAudio();
  }
}
