import { EventEmitter } from 'node:events';
import type { CallView } from '../agent/contract.js';

export type { CallState } from '../agent/contract.js';

/**
 * What Toneguard knows about one customer call: the agent's view plus the wiring that stays inside
 * the service. `callSid` is the neutral call id the agent API uses; the platform's own ids are
 * attributes.
 */
export interface CallRecord extends CallView {
  /** Which way the call came in (a telephony provider's name, or `sip`); never branched on in the core. */
  provider?: string;
  /** The platform's id of the caller's call. */
  providerCallId?: string;
  /** The agent call Toneguard placed through the platform's REST API: the only one whose stream may join. */
  agentProviderCallId?: string;
  /**
   * No agent is bound to the call (a SIP call whose proxy named no `toneguard-agent`): its audio
   * is still masked, but no capture may start on it (409 `call_unbound`).
   */
  unbound?: boolean;
  /** Cluster mode: the id of the node the call's media is pinned to. */
  node?: string;
}

export interface CallRegistry {
  get(callId: string): CallRecord | undefined;
  /** Finds a call by its neutral id, or either leg's platform call id. */
  findByAnyLeg(id: string): CallRecord | undefined;
  /** Live calls bound to this agent identity. */
  forAgent(agentId: string): CallRecord[];
  upsert(record: CallRecord): void;
  update(callSid: string, patch: Partial<Omit<CallRecord, 'callSid'>>): CallRecord | undefined;
  list(): CallRecord[];
  onChange(listener: (record: CallRecord) => void): () => void;
}

/** The default single-node registry. Ended calls are forgotten after `retainEndedMs`. */
export class MemoryCallRegistry implements CallRegistry {
  private readonly calls = new Map<string, CallRecord>();
  private readonly events = new EventEmitter();

  constructor(private readonly retainEndedMs = 10 * 60_000) {
    this.events.setMaxListeners(0);
  }

  get(callSid: string): CallRecord | undefined {
    return this.calls.get(callSid);
  }

  findByAnyLeg(id: string): CallRecord | undefined {
    const direct = this.calls.get(id);
    if (direct) return direct;
    for (const call of this.calls.values()) if (call.providerCallId === id || call.agentProviderCallId === id) return call;
    return undefined;
  }

  forAgent(agentId: string): CallRecord[] {
    return [...this.calls.values()].filter((c) => c.agentId === agentId && c.state !== 'ended');
  }

  upsert(record: CallRecord): void {
    const current = this.calls.get(record.callSid);
    this.calls.set(record.callSid, { ...record });
    if (record.state === 'ended' && current?.state !== 'ended') this.forgetLater(record.callSid);
    this.emit(record.callSid);
  }

  update(callSid: string, patch: Partial<Omit<CallRecord, 'callSid'>>): CallRecord | undefined {
    const current = this.calls.get(callSid);
    if (!current) return undefined;
    const next = { ...current, ...patch };
    this.calls.set(callSid, next);
    if (next.state === 'ended' && current.state !== 'ended') this.forgetLater(callSid);
    this.emit(callSid);
    return next;
  }

  list(): CallRecord[] {
    return [...this.calls.values()];
  }

  onChange(listener: (record: CallRecord) => void): () => void {
    this.events.on('change', listener);
    return () => this.events.off('change', listener);
  }

  /** Drops a call without a change event (a shared registry's mirror, when the call left the shared store). */
  forget(callSid: string): void {
    this.calls.delete(callSid);
  }

  private emit(callSid: string): void {
    const record = this.calls.get(callSid);
    if (record) this.events.emit('change', { ...record });
  }

  private forgetLater(callSid: string): void {
    setTimeout(() => {
      if (this.calls.get(callSid)?.state === 'ended') this.calls.delete(callSid);
    }, this.retainEndedMs).unref();
  }
}
