import { TwoLegCall } from '../two-leg-call.js';
import { randomSid, type TwilioRestStandIn } from './rest-stand-in.js';
import { FollowedStream } from './followed-stream.js';
import { TWILIO_DIALECT, TwilioStreamClient, type StreamDialect } from './stream-client.js';
import { parseStreamTwiml, postTwilioWebhook, type StreamInstruction, type TwilioTarget } from './webhooks.js';

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
  /** Where the inbound webhook goes (in a cluster: the node the platform's load balancer would pick). */
  target: TwilioTarget;
  /**
   * Other nodes' listening addresses: a webhook whose node does not answer (killed) goes to the
   * next, as a load balancer in front of the cluster would send it.
   */
  fallbackBaseUrls?: readonly string[];
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
  /** False: a cut stream ends its leg (the platform asks no `<Connect action>`), to play a call that cannot resume. */
  followReconnects?: boolean;
}

/** The caller ID a simulated call comes from unless told otherwise. */
export const SIMULATED_CALLER = '+15005550006';

function fail(step: string, detail: string): Error {
  return new Error(`simulated call: ${step} failed (${detail})`);
}

/** A refused connection (a killed node), as opposed to an answer of any status. */
const unreachable = (err: unknown) => err instanceof TypeError;

/**
 * One call played from Twilio's side: the signed inbound webhook, the caller stream, the
 * agent leg the service places through the REST stand-in, and its stream. Each leg follows its
 * `<Connect action>` when its stream is cut (a cluster node lost), as Twilio does.
 */
export class SimulatedCall extends TwoLegCall {
  private constructor(
    readonly callSid: string,
    readonly agentCallSid: string,
    readonly caller: FollowedStream,
    readonly agent: FollowedStream,
    private readonly options: DialOptions,
    private readonly dialect: CallDialect,
  ) {
    super();
  }

  static async dial(options: DialOptions): Promise<SimulatedCall> {
    const dialect = options.dialect ?? TWILIO_CALL_DIALECT;
    const callSid = dialect.newCallSid();
    const post = (pathAndQuery: string, params: Record<string, string>) => postToCluster(options, pathAndQuery, params, dialect);
    const inbound = await post(dialect.inboundPath, {
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
    const caller = await followLeg(options, dialect, callSid, callerStream, post);

    const { request, callSid: agentCallSid } = await options.standIn
      .waitForCall((r) => r.params.Url?.endsWith(`call=${callSid}`), options.agentTimeoutMs)
      .catch(() => {
        throw fail('agent leg', 'no calls.create reached the REST stand-in');
      });
    const url = request.params.Url;
    const answer = await post(url, { AccountSid: options.accountSid, CallSid: agentCallSid, CallStatus: 'in-progress', Direction: 'outbound-api' });
    const agentStream = answer.status === 200 ? parseStreamTwiml(answer.body) : undefined;
    if (!agentStream) throw fail('agent webhook', `status ${answer.status}`);
    const agent = await followLeg(options, dialect, agentCallSid, agentStream, post);
    return new SimulatedCall(callSid, agentCallSid, caller, agent, options, dialect);
  }

  get callId(): string {
    return this.callSid;
  }

  get agentCallId(): string {
    return this.agentCallSid;
  }

  /** The media URLs each leg streamed to, in order: which node carried it when. */
  streamUrls(): { caller: string[]; agent: string[] } {
    return { caller: this.caller.streamUrls, agent: this.agent.streamUrls };
  }

  /** Resolves once both legs have streamed `count` times in all (2: reconnected once after a cut), or ended. */
  async streamed(count: number): Promise<void> {
    await Promise.all([this.caller.streamed(count), this.agent.streamed(count)]);
  }

  /** Both legs stop their streams and the call-status callback reports the end. */
  protected async reportHangUp(): Promise<void> {
    const status = { AccountSid: this.options.accountSid, CallSid: this.callSid, CallStatus: 'completed' };
    await postToCluster(this.options, this.dialect.callStatusPath, status, this.dialect);
  }
}

/** A signed webhook to the target, or, when its node is unreachable, to the next node that answers. */
async function postToCluster(options: DialOptions, pathAndQuery: string, params: Record<string, string>, dialect: CallDialect): Promise<{ status: number; body: string }> {
  const bases = [options.target.baseUrl, ...(options.fallbackBaseUrls ?? [])];
  for (const [i, baseUrl] of bases.entries()) {
    try {
      return await postTwilioWebhook({ ...options.target, baseUrl }, pathAndQuery, params, undefined, dialect.stream);
    } catch (err) {
      if (!unreachable(err) || i === bases.length - 1) throw err;
    }
  }
  throw fail('webhook', 'no node to send it to');
}

/** One leg's stream, followed across its `<Connect action>` answers. */
function followLeg(
  options: DialOptions,
  dialect: CallDialect,
  legCallSid: string,
  first: StreamInstruction,
  post: (pathAndQuery: string, params: Record<string, string>) => Promise<{ status: number; body: string }>,
): Promise<FollowedStream> {
  const open = (instruction: StreamInstruction) =>
    TwilioStreamClient.open(options.target, { callSid: legCallSid, accountSid: options.accountSid, parameters: instruction.parameters, instruction }, dialect.stream);
  const next = async (action: string) => {
    if (options.followReconnects === false) return undefined;
    const answer = await post(action, { AccountSid: options.accountSid, CallSid: legCallSid, CallStatus: 'in-progress' });
    return answer.status === 200 ? parseStreamTwiml(answer.body) : undefined;
  };
  return FollowedStream.open(first, open, next);
}
