import type { CallView } from './contract.js';
import type { CallRecord } from '../state/calls.js';

/**
 * What an agent or supervisor sees of a call (REST, events socket, desktop). An allow-list:
 * the platform's agent-leg CallSid and anything else that joins or admits a media leg stays
 * inside the service, so a viewer cannot use it to claim a stream.
 */
export function agentCallView(call: CallRecord): CallView {
  const { callSid, agentId, from, state, startedAt, endedAt, masking, verification } = call;
  return { callSid, agentId, from, state, startedAt, endedAt, masking, verification };
}
