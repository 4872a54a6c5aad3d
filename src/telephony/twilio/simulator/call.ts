import { randomSid, type TwilioRestStandIn } from './rest-stand-in.js';
import { FRAME_SAMPLES, streamAudio, TwilioStreamClient } from './stream-client.js';
import { parseStreamTwiml, postTwilioWebhook, type TwilioTarget } from './webhooks.js';
import type { KeyedAudio } from './audio.js';

export interface DialOptions {
  target: TwilioTarget;
  accountSid: string;
  /** Receives the service's agent-leg `calls.create`. */
  standIn: TwilioRestStandIn;
  from?: string;
  to?: string;
  /** Twilio's STIR/SHAKEN verification result for the caller ID, e.g. `TN-Validation-Passed-A`. */
  stirVerstat?: string;
  /** How long to wait for the agent leg (ms). */
  agentTimeoutMs?: number;
}

/** The caller ID a simulated call comes from unless told otherwise. */
export const SIMULATED_CALLER = '+15005550006';

function fail(step: string, detail: string): Error {
  return new Error(`simulated call: ${step} failed (${detail})`);
}

/**
 * One call played from Twilio's side: the signed inbound webhook, the caller stream, the
 * agent leg the service places through the REST stand-in, and its stream.
 */
export class SimulatedCall {
  private constructor(
    readonly callSid: string,
    readonly agentCallSid: string,
    readonly caller: TwilioStreamClient,
    readonly agent: TwilioStreamClient,
    private readonly options: DialOptions,
  ) {}

  static async dial(options: DialOptions): Promise<SimulatedCall> {
    const callSid = randomSid('CA');
    const inbound = await postTwilioWebhook(options.target, '/twilio/voice/inbound', {
      AccountSid: options.accountSid,
      CallSid: callSid,
      From: options.from ?? SIMULATED_CALLER,
      To: options.to ?? '+15005550001',
      CallStatus: 'ringing',
      Direction: 'inbound',
      ...(options.stirVerstat ? { StirVerstat: options.stirVerstat } : {}),
    });
    const callerStream = inbound.status === 200 ? parseStreamTwiml(inbound.body) : undefined;
    if (!callerStream) throw fail('inbound webhook', `status ${inbound.status}`);
    const caller = await TwilioStreamClient.open(options.target, { callSid, accountSid: options.accountSid, parameters: callerStream.parameters });

    const { request, callSid: agentCallSid } = await options.standIn
      .waitForCall((r) => r.params.Url?.endsWith(`call=${callSid}`), options.agentTimeoutMs)
      .catch(() => {
        throw fail('agent leg', 'no calls.create reached the Twilio stand-in');
      });
    const url = request.params.Url;
    const answer = await postTwilioWebhook(options.target, url, { AccountSid: options.accountSid, CallSid: agentCallSid, CallStatus: 'in-progress', Direction: 'outbound-api' });
    const agentStream = answer.status === 200 ? parseStreamTwiml(answer.body) : undefined;
    if (!agentStream) throw fail('agent webhook', `status ${answer.status}`);
    const agent = await TwilioStreamClient.open(options.target, { callSid: agentCallSid, accountSid: options.accountSid, parameters: agentStream.parameters });
    return new SimulatedCall(callSid, agentCallSid, caller, agent, options);
  }

  /** The caller speaks or keys: audio at `speed`× real time, with a `dtmf` event at each tone's end when given. */
  async callerPlays(audio: Int16Array | KeyedAudio, speed = 1, dtmfEvents = true): Promise<void> {
    const keyed = audio instanceof Int16Array ? { audio, keyEnds: [] } : audio;
    let next = 0;
    await streamAudio(this.caller, keyed.audio, speed, (frame) => {
      const frameEnd = (frame + 1) * FRAME_SAMPLES;
      while (next < keyed.keyEnds.length && keyed.keyEnds[next].endSample <= frameEnd) {
        if (dtmfEvents) this.caller.sendDtmf(keyed.keyEnds[next].digit);
        next++;
      }
    });
  }

  async agentPlays(audio: Int16Array, speed = 1): Promise<void> {
    await streamAudio(this.agent, audio, speed);
  }

  /** Both legs stop their streams and the call-status callback reports the end. */
  async hangUp(): Promise<void> {
    await Promise.all([this.caller.stop(), this.agent.stop()]);
    await postTwilioWebhook(this.options.target, '/twilio/status/call', { AccountSid: this.options.accountSid, CallSid: this.callSid, CallStatus: 'completed' });
  }
}
