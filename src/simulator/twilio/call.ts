import { TwoLegCall } from '../two-leg-call.js';
import { randomSid, type TwilioRestStandIn } from './rest-stand-in.js';
import { TWILIO_DIALECT, TwilioStreamClient, type StreamDialect } from './stream-client.js';
import { parseStreamTwiml, postTwilioWebhook, type TwilioTarget } from './webhooks.js';

/** What differs between Twilio and a Twilio-compatible platform (SignalWire) when the simulator plays a call. */
export interface CallDialect {
  /** Where the inbound call's webhook and the call-status callback go. */
  inboundPath: string;
  callStatusPath: string;
  stream: StreamDialect;
  newCallSid: () => string;
}

export const TWILIO_CALL_DIALECT: CallDialect = {
  inboundPath: '/twilio/voice/inbound',
  callStatusPath: '/twilio/status/call',
  stream: TWILIO_DIALECT,
  newCallSid: () => randomSid('CA'),
};

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
  dialect?: CallDialect;
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
export class SimulatedCall extends TwoLegCall {
  private constructor(
    readonly callSid: string,
    readonly agentCallSid: string,
    readonly caller: TwilioStreamClient,
    readonly agent: TwilioStreamClient,
    private readonly options: DialOptions,
    private readonly dialect: CallDialect,
  ) {
    super();
  }

  static async dial(options: DialOptions): Promise<SimulatedCall> {
    const dialect = options.dialect ?? TWILIO_CALL_DIALECT;
    const callSid = dialect.newCallSid();
    const inbound = await postTwilioWebhook(
      options.target,
      dialect.inboundPath,
      {
        AccountSid: options.accountSid,
        CallSid: callSid,
        From: options.from ?? SIMULATED_CALLER,
        To: options.to ?? '+15005550001',
        CallStatus: 'ringing',
        Direction: 'inbound',
        ...(options.stirVerstat ? { StirVerstat: options.stirVerstat } : {}),
      },
      undefined,
      dialect.stream,
    );
    const callerStream = inbound.status === 200 ? parseStreamTwiml(inbound.body) : undefined;
    if (!callerStream) throw fail('inbound webhook', `status ${inbound.status}`);
    const caller = await TwilioStreamClient.open(options.target, { callSid, accountSid: options.accountSid, parameters: callerStream.parameters, instruction: callerStream }, dialect.stream);

    const { request, callSid: agentCallSid } = await options.standIn
      .waitForCall((r) => r.params.Url?.endsWith(`call=${callSid}`), options.agentTimeoutMs)
      .catch(() => {
        throw fail('agent leg', 'no calls.create reached the REST stand-in');
      });
    const url = request.params.Url;
    const answer = await postTwilioWebhook(options.target, url, { AccountSid: options.accountSid, CallSid: agentCallSid, CallStatus: 'in-progress', Direction: 'outbound-api' }, undefined, dialect.stream);
    const agentStream = answer.status === 200 ? parseStreamTwiml(answer.body) : undefined;
    if (!agentStream) throw fail('agent webhook', `status ${answer.status}`);
    const agent = await TwilioStreamClient.open(options.target, { callSid: agentCallSid, accountSid: options.accountSid, parameters: agentStream.parameters, instruction: agentStream }, dialect.stream);
    return new SimulatedCall(callSid, agentCallSid, caller, agent, options, dialect);
  }

  get callId(): string {
    return this.callSid;
  }

  get agentCallId(): string {
    return this.agentCallSid;
  }

  /** Both legs stop their streams and the call-status callback reports the end. */
  protected async reportHangUp(): Promise<void> {
    const status = { AccountSid: this.options.accountSid, CallSid: this.callSid, CallStatus: 'completed' };
    await postTwilioWebhook(this.options.target, this.dialect.callStatusPath, status, undefined, this.dialect.stream);
  }
}
