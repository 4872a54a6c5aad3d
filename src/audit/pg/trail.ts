import type pg from 'pg';
import { BACKLOG_LIMIT, lostError, notifyListeners, RETRY_INTERVAL_MS, type AuditListener, type AuditTrail, type TrailOutage } from '../audit-trail.js';
import { sealRecord, type AuditRecord } from '../chain.js';
import type { ScrubListener } from '../logger.js';
import { scrub } from '../scrubber.js';
import { SYSTEM_ACTOR, type AuditEvent } from '../types.js';
import type { DatabasePool } from '../../db/pool.js';

/** Most records one transaction appends: a long backlog drains in several, each holding the chain briefly. */
const MAX_BATCH = 1_000;
/** A query that takes longer is abandoned with its connection: a hung server must not hang the trail. */
const QUERY_TIMEOUT_MS = 10_000;
/**
 * The server ends a transaction left idle this long (a node paused, a network cut), so one stuck
 * writer cannot hold the chain's head, and with it every other node's audit trail, for long.
 */
const IDLE_IN_TRANSACTION_MS = 10_000;

/** Locks the head: every node appends through it, one transaction at a time. */
const LOCK_HEAD = `BEGIN; SET LOCAL idle_in_transaction_session_timeout = ${IDLE_IN_TRANSACTION_MS}; SELECT next_seq, last_mac FROM audit_chain_head FOR UPDATE`;
const APPEND = `WITH appended AS (
  INSERT INTO audit_records (seq, ts, node_id, record)
  SELECT seq, ts, $3, record FROM unnest($1::bigint[], $2::timestamptz[], $4::json[]) AS batch(seq, ts, record)
)
UPDATE audit_chain_head SET next_seq = $5, last_mac = $6`;

export interface PgAuditTrailOptions {
  pool: DatabasePool;
  key: Buffer;
  /** This node's id, carried by each of its records (`node`). */
  nodeId: string;
  now?: () => number;
  onScrub?: ScrubListener;
  /** Told on every failed transaction; `first` marks the start of an outage. */
  onWriteFailed?: (code: string, first: boolean) => void;
  /** Told when a transaction succeeds again after an outage, with what it cost. */
  onRecovered?: (outage: TrailOutage) => void;
}

/** An event not yet in the chain: its scrubbed JSON without seq and prev (added under the lock), and its promise. */
interface Pending {
  ts: string;
  /** `{"ts":…,"node":…,…event}`: scrubbed once, when recorded. */
  json: string;
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Sealed {
  pending: Pending;
  seq: number;
  body: string;
  line: string;
  mac: string;
}

/** A batch whose COMMIT was sent but not answered: it may be in the chain. */
interface InDoubt {
  sealed: Sealed[];
  /** How many of its records came from the queue (the rest: the outage report at its front). */
  queued: number;
}

type Query = <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => Promise<pg.QueryResult<R>>;

/** Counters for sizing: how many transactions appended how many records. */
export interface PgTrailStats {
  transactions: number;
  records: number;
}

/**
 * The audit trail of a cluster: one hash chain in PostgreSQL that every node appends to, each
 * record sealed exactly as the file trail seals it (`sealRecord`, its MAC over the body with
 * `prev`), plus the id of the node that wrote it.
 *
 * Group commit: `record` scrubs the event and queues it; one transaction at a time appends the
 * queue (up to `MAX_BATCH` records) under the chain's head row lock (`SELECT … FOR UPDATE`, which
 * serialises every node's appends) and resolves each record's promise once it commits. Events
 * recorded while a transaction is in flight go into the next one, so a burst costs a few round
 * trips and nothing blocks the event loop.
 *
 * When PostgreSQL cannot be reached (a restart, a failover) nothing throws into callers: the
 * trail reports itself unavailable, holds events (at most `BACKLOG_LIMIT`; beyond that they are
 * rejected as lost), retries every second, and on recovery appends an `audit.write_failed` record
 * and then the backlog, in order. A batch whose COMMIT went unanswered is looked up under the
 * lock before it is written again, so it is neither lost nor recorded twice.
 */
export class PgAuditTrail implements AuditTrail {
  private readonly listeners = new Set<AuditListener>();
  private readonly now: () => number;
  /** Every event not yet committed, in order: the next batch, and during an outage the backlog. */
  private queue: Pending[] = [];
  private writing: Promise<void> | undefined;
  private outage: { code: string; since: string; lost: number } | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private inDoubt: InDoubt | undefined;
  private closed = false;
  readonly stats: PgTrailStats = { transactions: 0, records: 0 };

  constructor(private readonly options: PgAuditTrailOptions) {
    this.now = options.now ?? Date.now;
  }

  available(): boolean {
    return this.outage === undefined;
  }

  /** Events recorded but not yet committed. */
  get held(): number {
    return this.queue.length;
  }

  /** Queues `event` for the next transaction; the promise resolves once it is committed. Safe to ignore. */
  record(event: AuditEvent): Promise<void> {
    let settle: Pick<Pending, 'resolve' | 'reject'> | undefined;
    const durable = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    // Fire-and-forget callers never see a rejection as unhandled; those who await still get it.
    durable.catch(() => undefined);
    const pending = this.prepare(event, settle!);
    if (this.queue.length >= BACKLOG_LIMIT) {
      if (this.outage) this.outage.lost += 1;
      pending.reject(lostError());
      return durable;
    }
    this.queue.push(pending);
    // During an outage only the retry timer writes: every event must not hammer a server that is down.
    if (!this.outage) this.writing ??= this.writeLoop();
    return durable;
  }

  subscribe(listener: AuditListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /**
   * Waits for the transaction under way and makes one last attempt if events are held: when it
   * resolves, every event recorded is committed or rejected as lost. A straggler recorded later is
   * still written, with no retry.
   */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.retryTimer);
    this.retryTimer = undefined;
    await this.flush();
    // A failure from here on rejects what is held (see `failed`): nothing waits for a later attempt.
    if (this.queue.length > 0 || this.outage) this.writing ??= this.writeLoop();
    await this.flush();
  }

  private prepare(event: AuditEvent, settle: Pick<Pending, 'resolve' | 'reject'>): Pending {
    const ts = new Date(this.now()).toISOString();
    const scrubbed = scrub(JSON.stringify({ ts, node: this.options.nodeId, ...event }), { json: true });
    if (scrubbed.hits.length > 0) this.options.onScrub?.(scrubbed.hits);
    return { ts, json: scrubbed.text, ...settle };
  }

  /** Appends batches until the queue is empty, or a transaction fails (the retry timer then takes over). */
  private async writeLoop(): Promise<void> {
    // Events recorded in the same turn of the event loop as the first share its transaction.
    await undefined;
    try {
      while (this.queue.length > 0 || this.outage) {
        const held = this.queue.length;
        const report = this.outage ? this.outageReport(this.outage) : undefined;
        try {
          await this.transaction(report);
        } catch (err) {
          this.failed(err);
          return;
        }
        if (this.outage) this.recovered({ code: this.outage.code, queued: held, lost: this.outage.lost });
      }
    } finally {
      this.writing = undefined;
    }
  }

  /**
   * One transaction: lock the head, settle a batch left in doubt, append the outage report (if
   * any) and the front of the queue, move the head, commit. The queue is only cut once committed.
   */
  private async transaction(report: Pending | undefined): Promise<void> {
    const client = await this.options.pool.connect();
    const query: Query = (text, values) => {
      // pg honours a per-query read timeout that its type definitions do not list.
      const config = { text, values, query_timeout: QUERY_TIMEOUT_MS };
      return client.query(config);
    };
    let committing = false;
    let sealed: Sealed[] = [];
    let queued = 0;
    let failure: Error | undefined;
    try {
      const locked = (await query(LOCK_HEAD)) as unknown as pg.QueryResult<{ next_seq: string; last_mac: string }>[];
      const head = locked[locked.length - 1].rows[0];
      if (this.inDoubt) await this.settleInDoubt(this.inDoubt, query);
      const batch = this.queue.slice(0, MAX_BATCH - (report ? 1 : 0));
      queued = batch.length;
      sealed = this.seal(report ? [report, ...batch] : batch, Number(head.next_seq), head.last_mac);
      const last = sealed[sealed.length - 1];
      if (last) await query(APPEND, [sealed.map((s) => s.seq), sealed.map((s) => s.pending.ts), this.options.nodeId, sealed.map((s) => s.line), last.seq + 1, last.mac]);
      committing = true;
      await query('COMMIT');
    } catch (err) {
      // The connection's state is unknown: it is dropped rather than handed back to the pool.
      failure = err instanceof Error ? err : new Error('audit append failed');
      if (committing && sealed.length > 0) this.inDoubt = { sealed, queued };
      throw err;
    } finally {
      client.release(failure);
    }
    this.committed(sealed, queued);
  }

  /** The batch whose COMMIT went unanswered: under the head lock its fate is settled; if it is in the chain, it is done. */
  private async settleInDoubt(inDoubt: InDoubt, query: Query): Promise<void> {
    const first = inDoubt.sealed[0];
    const found = await query<{ line: string }>('SELECT record::text AS line FROM audit_records WHERE seq = $1', [first.seq]);
    this.inDoubt = undefined;
    if (found.rows[0]?.line === first.line) this.committed(inDoubt.sealed, inDoubt.queued);
  }

  private seal(batch: readonly Pending[], firstSeq: number, firstPrev: string): Sealed[] {
    let prev = firstPrev;
    return batch.map((pending, i) => {
      const seq = firstSeq + i;
      const body = `{"seq":${seq},${pending.json.slice(1, -1)},"prev":"${prev}"}`;
      const { line, mac } = sealRecord(this.options.key, body);
      prev = mac;
      return { pending, seq, body, line, mac };
    });
  }

  private committed(sealed: readonly Sealed[], queued: number): void {
    this.queue.splice(0, queued);
    this.stats.transactions += 1;
    this.stats.records += sealed.length;
    for (const { pending, body } of sealed) {
      pending.resolve();
      notifyListeners(this.listeners, JSON.parse(body) as AuditRecord);
    }
  }

  private outageReport(outage: { code: string; since: string; lost: number }): Pending {
    const event: AuditEvent = { action: 'audit.write_failed', actor: SYSTEM_ACTOR, outcome: 'failure', details: { code: outage.code, since: outage.since, queued: this.queue.length, lost: outage.lost } };
    return this.prepare(event, { resolve: () => undefined, reject: () => undefined });
  }

  private failed(err: unknown): void {
    const code = errorCode(err);
    const first = this.outage === undefined;
    this.outage ??= { code, since: new Date(this.now()).toISOString(), lost: 0 };
    this.options.onWriteFailed?.(code, first);
    if (!this.closed) {
      this.retryTimer ??= setInterval(() => (this.writing ??= this.writeLoop()), RETRY_INTERVAL_MS).unref();
      return;
    }
    // Once closed there is no later attempt: what is held (a straggler's event) is lost.
    for (const pending of this.queue.splice(0)) pending.reject(lostError());
    this.inDoubt = undefined;
  }

  private recovered(outage: TrailOutage): void {
    clearInterval(this.retryTimer);
    this.retryTimer = undefined;
    this.outage = undefined;
    this.options.onRecovered?.(outage);
  }
}

/** A stable code for the metric and the outage record: the socket's (`ECONNREFUSED`), PostgreSQL's SQLSTATE, or `EUNKNOWN`. */
function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,32}$/.test(code) ? code : 'EUNKNOWN';
}
