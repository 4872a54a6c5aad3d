import type { AuditRecord } from './chain.js';
import type { AuditEvent, AuditSink } from './types.js';
import { ToneguardError } from '../errors.js';

/** Events held in memory while the trail cannot write; beyond this they are counted as lost. */
export const BACKLOG_LIMIT = 10_000;
export const RETRY_INTERVAL_MS = 1_000;

export const lostError = () => new ToneguardError('audit_unavailable', 'The audit trail could not write this event; it was lost', 503);

export type AuditListener = (record: AuditRecord) => void;

export interface TrailOutage {
  /** The error code of the first failed write (`ENOSPC`, `EIO`, `ECONNREFUSED`, a SQLSTATE...). */
  code: string;
  /** Events kept in memory, written (in order) when the trail recovers. */
  queued: number;
  /** Events dropped because the backlog was full. */
  lost: number;
}

/**
 * What the service keeps its audit chain in: the file trail (one node) or PostgreSQL (a cluster).
 * Both promise the same: `record` never throws, its promise resolves once the record is durable
 * and rejects with `audit_unavailable` only if it was lost; while writes fail the trail says it is
 * unavailable, holds events in a bounded backlog and, on recovery, writes an `audit.write_failed`
 * record and then the backlog, in order.
 */
export interface AuditTrail extends AuditSink {
  record(event: AuditEvent): Promise<void>;
  available(): boolean;
  /** Every record this process wrote, once it is in the chain. Returns the unsubscribe function. */
  subscribe(listener: AuditListener): () => void;
  /** Resolves once the writes under way are done. */
  flush(): Promise<void>;
  /** Makes one last attempt to write what is held, then gives up on the rest (rejecting it). */
  close(): Promise<void>;
}

/** Hands `record` to every listener; a listener's failure never loses or blocks a record. */
export function notifyListeners(listeners: Iterable<AuditListener>, record: AuditRecord): void {
  for (const listener of listeners) {
    try {
      listener(record);
    } catch {
      // A subscriber's failure must never lose or block a record.
    }
  }
}
