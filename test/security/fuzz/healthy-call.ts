import { expect } from 'vitest';
import { FRAME_MS, FRAME_SAMPLES, silence, syntheticSpeech, waitFor, type SimulatedCall, type TwilioTestBed } from '../../helpers/twilio.js';

/** Frames that must reach each side after a fuzz phase before the call counts as still flowing. */
const FLOW_FRAMES = 10;

/**
 * A well-behaved call streaming both legs in real time (20 ms frames) for as long as the fuzzing
 * lasts: the bystander whose audio must never stop.
 */
export class HealthyCall {
  private readonly timer: NodeJS.Timeout;

  private constructor(
    readonly call: SimulatedCall,
    private readonly bed: TwilioTestBed,
  ) {
    const speech = syntheticSpeech(1000);
    const quiet = silence(FRAME_MS);
    let frame = 0;
    this.timer = setInterval(() => {
      const offset = (frame++ % (speech.length / FRAME_SAMPLES)) * FRAME_SAMPLES;
      call.caller.sendAudio(speech.subarray(offset, offset + FRAME_SAMPLES));
      call.agent.sendAudio(quiet);
    }, FRAME_MS);
  }

  static async start(bed: TwilioTestBed): Promise<HealthyCall> {
    const call = await bed.dial();
    await waitFor(() => bed.server.context.calls.get(call.callSid)?.state === 'bridged');
    return new HealthyCall(call, bed);
  }

  /** Frames each side has heard so far. */
  counts(): { agent: number; caller: number } {
    return { agent: this.call.agent.received.length, caller: this.call.caller.received.length };
  }

  /**
   * Runs a fuzz phase and proves the call flowed through it: the agent leg heard caller audio
   * during the phase and still hears it after, both sockets are open, `/healthz` answers 200.
   */
  async across<T>(phase: () => Promise<T>): Promise<T> {
    const before = this.counts();
    const result = await phase();
    const after = this.counts();
    expect(after.agent, 'agent leg frames during the phase').toBeGreaterThan(before.agent);
    await waitFor(() => this.counts().agent >= after.agent + FLOW_FRAMES && this.counts().caller >= after.caller + FLOW_FRAMES);
    expect(this.call.caller.open && this.call.agent.open).toBe(true);
    expect(this.bed.server.context.calls.get(this.call.callSid)?.state).toBe('bridged');
    expect((await fetch(`${this.bed.server.url}/healthz`)).status).toBe(200);
    return result;
  }

  async hangUp(): Promise<void> {
    clearInterval(this.timer);
    await this.call.hangUp();
  }
}
