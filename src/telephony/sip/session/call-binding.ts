import type { CaptureService } from '../../../capture/types.js';
import type { CallRegistry } from '../../../state/calls.js';

/**
 * Where a SIP call meets the rest of Toneguard: the call registry (`GET /v1/calls`, the events
 * socket, the desktop) and the capture service. The only file of SIP mode that touches them, so a
 * change to the registry's shape is made here alone.
 */
export interface CallBinding {
  /** A new SIP call, registered as ringing; bound to `agentId` when the proxy named one. */
  open(callId: string, agentId: string | undefined): void;
  /** The proxy named (or renamed) the agent holding the call. */
  bind(callId: string, agentId: string): void;
  /** An answer went through: the media path is up. */
  answered(callId: string): void;
  /** The call is over (delete, timeout, shutdown): live captures are cancelled, the call ends. */
  end(callId: string, reason: string): void;
}

export function registryBinding(deps: { calls: CallRegistry; captures: Pick<CaptureService, 'endCall'> }): CallBinding {
  const { calls, captures } = deps;
  return {
    open(callId, agentId) {
      // No providerCallId: the SIP Call-ID often carries a host name, sometimes a number.
      calls.upsert({ callSid: callId, provider: 'sip', state: 'ringing', startedAt: new Date().toISOString(), ...(agentId ? { agentId } : { unbound: true }) });
    },
    bind(callId, agentId) {
      const call = calls.get(callId);
      if (call && call.state !== 'ended' && call.agentId !== agentId) calls.update(callId, { agentId, unbound: false });
    },
    answered(callId) {
      const call = calls.get(callId);
      if (call?.state === 'ringing') calls.update(callId, { state: 'bridged' });
    },
    end(callId, reason) {
      captures.endCall(callId, reason);
      const call = calls.get(callId);
      if (call && call.state !== 'ended') calls.update(callId, { state: 'ended', endedAt: new Date().toISOString() });
    },
  };
}
