import { randomUUID } from 'node:crypto';
import { TwoLegCall } from '../two-leg-call.js';
import type { DialRequest } from '../player.js';
import type { VonageRestStandIn } from './rest-stand-in.js';
import { VonageStreamClient } from './stream-client.js';
import { getVonageAnswer, postVonageEvent, websocketOf, type VonageTarget } from './webhooks.js';

export const VONAGE_ANSWER_PATH = '/vonage/voice/answer';
export const VONAGE_EVENT_PATH = '/vonage/voice/event';

export interface VonageDialOptions extends DialRequest {
  target: VonageTarget;
  standIn: VonageRestStandIn;
}

const fail = (step: string, detail: string) => new Error(`simulated call: ${step} failed (${detail})`);

/**
 * One call played from Vonage's side: the signed answer webhook for the inbound call, its NCCO's
 * websocket; the agent call the service creates on the Voice API stand-in, that call's answer
 * webhook (its own answer URL) and websocket. Each leg is its own conversation.
 */
export class VonageSimulatedCall extends TwoLegCall {
  private constructor(
    readonly callId: string,
    readonly agentCallId: string,
    readonly caller: VonageStreamClient,
    readonly agent: VonageStreamClient,
    private readonly options: VonageDialOptions,
  ) {
    super();
  }

  static async dial(options: VonageDialOptions): Promise<VonageSimulatedCall> {
    const { target, standIn } = options;
    const callId = randomUUID();
    const fields = { from: (options.from ?? '+447700900000').replace(/^\+/, ''), to: (options.to ?? '+447700900001').replace(/^\+/, ''), uuid: callId, conversation_uuid: `CON-${randomUUID()}` };
    const inbound = await getVonageAnswer(target, VONAGE_ANSWER_PATH, fields);
    const callerSocket = inbound.status === 200 ? websocketOf(inbound.ncco) : undefined;
    if (!callerSocket) throw fail('answer webhook', `status ${inbound.status}`);
    const caller = await VonageStreamClient.open(target.baseUrl, { instruction: callerSocket, signer: target.signer });

    const created = await standIn
      .waitFor((r) => r.method === 'POST' && Array.isArray(r.body.answer_url) && String(r.body.answer_url[0]).endsWith(`call=${callId}`), options.agentTimeoutMs ?? 5000)
      .catch(() => {
        throw fail('agent leg', 'no create call reached the Voice API stand-in');
      });
    const agentId = created.uuid;
    const answerUrl = String((created.body.answer_url as string[])[0]);
    const agentAnswer = await getVonageAnswer(target, answerUrl, { from: fields.to, to: String((created.body.to as { number?: string }[])[0]?.number ?? ''), uuid: agentId, conversation_uuid: `CON-${randomUUID()}` });
    const agentSocket = agentAnswer.status === 200 ? websocketOf(agentAnswer.ncco) : undefined;
    if (!agentSocket) throw fail('agent answer webhook', `status ${agentAnswer.status}`);
    const agent = await VonageStreamClient.open(target.baseUrl, { instruction: agentSocket, signer: target.signer });
    return new VonageSimulatedCall(callId, agentId, caller, agent, options);
  }

  /** The caller hangs up: the websockets close and Vonage reports `completed`. */
  protected async reportHangUp(): Promise<void> {
    await postVonageEvent(this.options.target, VONAGE_EVENT_PATH, { uuid: this.callId, status: 'completed', direction: 'inbound', timestamp: new Date().toISOString() });
  }
}
