/** Who did something. `id` is an identity (agent subject, processor name, "system"), never a secret. */
export interface Actor {
  type: 'agent' | 'processor' | 'system' | 'telephony' | 'operator';
  id: string;
  roles?: readonly string[];
  /** Where the request came from (remote address), when known. */
  source?: string;
}

export const SYSTEM_ACTOR: Actor = Object.freeze({ type: 'system', id: 'toneguard' });

export type AuditOutcome = 'success' | 'failure' | 'denied';

/**
 * One security event. Details carry tokens, last4, brands, counts and codes only:
 * never a PAN, CVV, ID number or secret.
 */
export interface AuditEvent {
  action: string;
  actor: Actor;
  outcome: AuditOutcome;
  resource?: { type: string; id: string };
  source?: string;
  details?: Record<string, string | number | boolean | null>;
}

/** The port every module writes security events through; `src/audit` implements it. */
export interface AuditSink {
  /**
   * Records `event`. A sink that writes asynchronously returns a promise that resolves once the
   * record is durable (and rejects with `audit_unavailable` if it was lost): callers that must not
   * go on before that (a tokenize) await it; every other caller may ignore it.
   */
  record(event: AuditEvent): void | Promise<void>;
  /**
   * False while records cannot be written (a full disk): work that must be audited, such as a
   * capture, refuses to start. Sinks that cannot fail leave it out.
   */
  available?(): boolean;
}

/** An AuditSink that keeps events in memory: for tests and for wiring before the trail exists. */
export class MemoryAuditSink implements AuditSink {
  readonly events: AuditEvent[] = [];
  record(event: AuditEvent): void {
    this.events.push(event);
  }
}
