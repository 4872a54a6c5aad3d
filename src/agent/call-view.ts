import type { CallRecord, CallState } from '../state/calls.js';

/**
 * What an agent or supervisor sees of a call (REST, events socket, desktop). An allow-list:
 * the platform's agent-leg CallSid and anything else that joins or admits a media leg stays
 * inside the service, so a viewer cannot use it to claim a stream.
 */
export interface AgentCallView {
  callSid: string;
  agentId?: string;
  from?: string;
  state: CallState;
  startedAt: string;
  endedAt?: string;
}

export function agentCallView(call: CallRecord): AgentCallView {
  const { callSid, agentId, from, state, startedAt, endedAt } = call;
  return { callSid, agentId, from, state, startedAt, endedAt };
}
