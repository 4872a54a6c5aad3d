import { TwoLegCall } from '../two-leg-call.js';
import type { DialRequest } from '../player.js';
import { randomCallControlId, type TelnyxRestStandIn } from './rest-stand-in.js';
import { TelnyxStreamClient, type TelnyxStreamingStart } from './stream-client.js';
import { postTelnyxWebhook, telnyxEvent, type TelnyxTarget } from './webhooks.js';

/** Where the service's Call Control application receives its webhooks. */
export const TELNYX_EVENTS_PATH = '/telnyx/voice/events';

export interface TelnyxDialOptions extends DialRequest {
  target: TelnyxTarget;
  standIn: TelnyxRestStandIn;
  /** Deliver media out of order within this many frames, as Telnyx may. */
  shuffleWindow?: number;
}

const fail = (step: string, detail: string) => new Error(`simulated call: ${step} failed (${detail})`);

/**
 * One call played from Telnyx's side: `call.initiated` for the inbound call, the `answer` and
 * `streaming_start` commands the service sends (on the Call Control stand-in), `call.answered`,
 * the caller's media stream; then the agent call the service dials, its `call.answered` and stream.
 */
export class TelnyxSimulatedCall extends TwoLegCall {
  private constructor(
    readonly callId: string,
    readonly agentCallId: string,
    readonly caller: TelnyxStreamClient,
    readonly agent: TelnyxStreamClient,
    private readonly options: TelnyxDialOptions,
  ) {
    super();
  }

  static async dial(options: TelnyxDialOptions): Promise<TelnyxSimulatedCall> {
    const { target, standIn } = options;
    const timeout = options.agentTimeoutMs ?? 5000;
    const callId = randomCallControlId();
    const from = options.from ?? '+15005550006';
    const to = options.to ?? '+15005550001';
    const initiated = await postTelnyxWebhook(target, TELNYX_EVENTS_PATH, telnyxEvent('call.initiated', { call_control_id: callId, from, to, direction: 'incoming' }));
    if (initiated.status !== 200) throw fail('call.initiated webhook', `status ${initiated.status}`);
    await standIn.waitFor((c) => c.action === 'answer' && c.callControlId === callId, timeout).catch(() => {
      throw fail('answer', 'no answer command reached the Call Control stand-in');
    });
    await postTelnyxWebhook(target, TELNYX_EVENTS_PATH, telnyxEvent('call.answered', { call_control_id: callId, from, to, direction: 'incoming', state: 'answered' }));
    const caller = await TelnyxSimulatedCall.stream(options, callId, timeout);

    const dial = await standIn.waitFor((c) => c.action === 'dial' && typeof c.body.client_state === 'string' && Buffer.from(c.body.client_state, 'base64').toString().includes(JSON.stringify(callId)), timeout).catch(() => {
      throw fail('agent leg', 'no dial reached the Call Control stand-in');
    });
    const agentId = dial.callControlId;
    const agentPayload = { call_control_id: agentId, from: String(dial.body.from), to: String(dial.body.to), direction: 'outgoing' as const, client_state: dial.body.client_state as string };
    await postTelnyxWebhook(target, TELNYX_EVENTS_PATH, telnyxEvent('call.initiated', agentPayload));
    await postTelnyxWebhook(target, TELNYX_EVENTS_PATH, telnyxEvent('call.answered', { ...agentPayload, state: 'answered' }));
    const agent = await TelnyxSimulatedCall.stream(options, agentId, timeout);
    return new TelnyxSimulatedCall(callId, agentId, caller, agent, options);
  }

  /** Waits for the leg's `streaming_start` and opens the stream it asks for. */
  private static async stream(options: TelnyxDialOptions, callControlId: string, timeout: number): Promise<TelnyxStreamClient> {
    const command = await options.standIn.waitFor((c) => c.action === 'streaming_start' && c.callControlId === callControlId, timeout).catch(() => {
      throw fail('streaming_start', 'no streaming_start reached the Call Control stand-in');
    });
    return TelnyxStreamClient.open(options.target.baseUrl, { callControlId, command: command.body as unknown as TelnyxStreamingStart, shuffleWindow: options.shuffleWindow });
  }

  /** Both streams stop, and Telnyx reports the caller's hang-up. */
  protected async reportHangUp(): Promise<void> {
    await postTelnyxWebhook(this.options.target, TELNYX_EVENTS_PATH, telnyxEvent('call.hangup', { call_control_id: this.callId, hangup_cause: 'normal_clearing', state: 'hangup' }));
  }
}
