import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { GENESIS, openRecord, sealRecord, type AuditRecord } from './chain.js';
import { scrub } from './scrubber.js';
import type { ScrubListener } from './logger.js';
import { fsTrailFileWriter, listTrailFiles, readAnchor, readTrailLines, trailFileName, type TrailFileWriter } from './trail-files.js';
import { SYSTEM_ACTOR, type AuditEvent, type AuditSink } from './types.js';
import { acquireWriterLock, WRITER_LOCK_FILE, type WriterLock } from './writer-lock.js';
import { ToneguardError } from '../errors.js';

export type AuditListener = (record: AuditRecord) => void;

/** Events held in memory while the trail cannot write; beyond this they are counted as lost. */
const BACKLOG_LIMIT = 10_000;
const RETRY_INTERVAL_MS = 1_000;

export interface TrailOutage {
  /** The error code of the first failed write (`ENOSPC`, `EIO`, ...). */
  code: string;
  /** Events kept in memory, written (in order) when the trail recovers. */
  queued: number;
  /** Events dropped because the backlog was full. */
  lost: number;
}

export interface FileAuditTrailOptions {
  dir: string;
  key: Buffer;
  /** Start a new file once the current one would grow past this. */
  rotateBytes: number;
  now?: () => number;
  /** fdatasync each batch before its records count as written (default). Off only for bulk tests. */
  syncEachBatch?: boolean;
  /** Told when the scrubber masked something in a record: a bug upstream. */
  onScrub?: ScrubListener;
  /** Where bytes go (default: the file system, asynchronously). */
  writer?: TrailFileWriter;
  /** Told on every failed write attempt; `first` marks the start of an outage. */
  onWriteFailed?: (code: string, first: boolean) => void;
  /** Told when writes succeed again after an outage, with what it cost. */
  onRecovered?: (outage: TrailOutage) => void;
}

interface OpenFile {
  fd: number;
  name: string;
  day: string;
  index: number;
  size: number;
}

/** An event waiting for its batch, and the promise `record` handed out for it. */
interface Pending {
  ts: string;
  event: AuditEvent;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** A pending event sealed at its place in the chain, ready to append. */
interface Sealed {
  pending: Pending;
  bytes: Buffer;
  body: string;
  mac: string;
}

const lostError = () => new ToneguardError('audit_unavailable', 'The audit trail could not write this event; it was lost', 503);

/**
 * The append-only, hash-chained audit trail: one JSON line per security event, each
 * carrying an HMAC over the previous record's MAC and its own content. Files rotate by size
 * and by UTC day, and the chain runs across them.
 *
 * Group commit off the event loop: `record` queues the event (its timestamp and place in the
 * queue fixed at once) and returns a promise that resolves once the record is on disk. One batch
 * is in flight at a time: the queued events are sealed in order (the HMAC is cheap and stays
 * here, so the chain order is exactly the call order), then written with one asynchronous write
 * and one fdatasync per file, both on libuv's thread pool. Events recorded while a batch is
 * being synced form the next batch, so a burst costs a few fsyncs and never blocks a frame.
 * Callers that must not go on before the record is durable (a tokenize) await the promise; the
 * rest ignore it (it never rejects unhandled).
 *
 * When a write fails (a full disk, an I/O error) nothing is thrown into a caller: the torn write
 * is cut off, the trail reports itself unavailable, keeps events in a bounded backlog and retries
 * every second. On recovery it writes an `audit.write_failed` record saying what happened, then
 * the backlog, in order, in the chain. An event dropped from a full backlog rejects its promise
 * with `audit_unavailable`.
 */
export class FileAuditTrail implements AuditSink {
  private current: OpenFile | undefined;
  /** The head of the chain on disk: the next record's seq and the last record's MAC. */
  private seq: number;
  private prev: string;
  private readonly listeners = new Set<AuditListener>();
  private readonly now: () => number;
  private readonly writer: TrailFileWriter;
  private outage: (TrailOutage & { since: string }) | undefined;
  /** Events not yet on disk, in chain order; while unavailable, the backlog. */
  private queue: Pending[] = [];
  /** The batch loop (or a recovery) under way; only one touches the file at a time. */
  private writing: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;

  private lock: WriterLock | undefined;

  /** Throws `audit_trail_busy` when another live process writes this trail (see `writer-lock.ts`). */
  constructor(private readonly options: FileAuditTrailOptions) {
    this.now = options.now ?? Date.now;
    this.writer = options.writer ?? fsTrailFileWriter;
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    this.lock = acquireWriterLock(options.dir);
    if (!this.lock) {
      throw new ToneguardError('audit_trail_busy', `another process is writing the audit trail in ${options.dir} (${WRITER_LOCK_FILE})`, 500);
    }
    const head = findHead(options.key, options.dir);
    this.seq = head.seq;
    this.prev = head.prev;
  }

  get dir(): string {
    return this.options.dir;
  }

  /** The file being appended to, so retention leaves it alone. */
  get currentFile(): string | undefined {
    return this.current?.name;
  }

  /** False from a failed write until writes succeed again. */
  available(): boolean {
    return this.outage === undefined;
  }

  /** Queues `event`; the promise resolves once its record is durable. Safe to ignore. */
  record(event: AuditEvent): Promise<void> {
    let settle: Pick<Pending, 'resolve' | 'reject'> | undefined;
    const durable = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    // Fire-and-forget callers never see a rejection as unhandled; those who await still get it.
    durable.catch(() => undefined);
    const pending: Pending = { ts: new Date(this.now()).toISOString(), event, ...settle! };
    if (!this.outage) {
      this.queue.push(pending);
      this.writing ??= this.drain();
    } else if (this.queue.length < BACKLOG_LIMIT) {
      this.queue.push(pending);
    } else {
      this.outage.lost += 1;
      pending.reject(lostError());
    }
    return durable;
  }

  /** Every record, after it is written. Returns the unsubscribe function. */
  subscribe(listener: AuditListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once every event recorded so far is durable (or held in the backlog of an outage). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /**
   * Writes what is queued, makes one last attempt if the trail is unavailable, syncs and closes the
   * current file. A record arriving later (a straggler at shutdown) opens a new file and keeps the chain.
   */
  async close(): Promise<void> {
    await this.flush();
    if (this.outage) await this.retry();
    clearInterval(this.retryTimer);
    this.retryTimer = undefined;
    for (const pending of this.outage ? this.queue.splice(0) : []) pending.reject(lostError());
    do {
      await this.flush();
      try {
        await this.closeCurrent();
      } catch {
        // Nothing more can be done for a file the disk refuses to sync; its complete records are on it.
      }
    } while (this.writing);
    this.lock?.release();
    this.lock = undefined;
  }

  /** Writes batches until the queue is empty or a write fails. */
  private async drain(): Promise<void> {
    // Events recorded in the same turn of the loop as the first join its batch.
    await undefined;
    try {
      while (this.queue.length > 0 && !this.outage) {
        const rest = await this.writeBatch(this.queue.splice(0));
        this.queue = [...rest, ...this.queue];
      }
    } finally {
      this.writing = undefined;
    }
  }

  /**
   * Seals `batch` on the chain head and appends it, one write and one sync per file it lands in.
   * Returns what was not written (empty on success); on failure the torn end is cut off, the head
   * stays at the last record on disk, and the trail is unavailable.
   */
  private async writeBatch(batch: Pending[]): Promise<Pending[]> {
    // A straggler after close (shutdown) takes the lock back; no other writer can have started in between in practice.
    this.lock ??= acquireWriterLock(this.options.dir);
    const sealed = this.seal(batch);
    let file: OpenFile | undefined;
    for (let i = 0; i < sealed.length; ) {
      const day = sealed[i].pending.ts.slice(0, 10);
      let end = i + 1;
      file = undefined;
      try {
        file = await this.fileFor(day, sealed[i].bytes.length);
        let size = file.size + sealed[i].bytes.length;
        for (; end < sealed.length && sealed[end].pending.ts.startsWith(day) && size + sealed[end].bytes.length <= this.options.rotateBytes; end++) {
          size += sealed[end].bytes.length;
        }
        await this.writer.append(file.fd, Buffer.concat(sealed.slice(i, end).map((s) => s.bytes)));
        if (this.options.syncEachBatch !== false) await this.writer.sync(file.fd);
        file.size = size;
      } catch (err) {
        if (file) await this.dropTornWrite(file);
        this.failed(err);
        return batch.slice(i);
      }
      this.committed(sealed.slice(i, end));
      i = end;
    }
    return [];
  }

  /** Seals each event on the one before it, starting from the head on disk. */
  private seal(batch: Pending[]): Sealed[] {
    let seq = this.seq;
    let prev = this.prev;
    return batch.map((pending) => {
      const scrubbed = scrub(JSON.stringify({ seq, ts: pending.ts, ...pending.event }), { json: true });
      if (scrubbed.hits.length > 0) this.options.onScrub?.(scrubbed.hits);
      const body = `${scrubbed.text.slice(0, -1)},"prev":"${prev}"}`;
      const { line, mac } = sealRecord(this.options.key, body);
      seq += 1;
      prev = mac;
      return { pending, bytes: Buffer.from(`${line}\n`, 'utf8'), body, mac };
    });
  }

  /** Moves the head past records now on disk, tells subscribers, and resolves their promises. */
  private committed(records: Sealed[]): void {
    this.seq += records.length;
    this.prev = records[records.length - 1].mac;
    for (const { body, pending } of records) {
      const written = JSON.parse(body) as AuditRecord;
      for (const listener of this.listeners) {
        try {
          listener(written);
        } catch {
          // A subscriber's failure must never lose or block a record.
        }
      }
      pending.resolve();
    }
  }

  /** Cuts a failed write off the file; if even that fails, the file is left behind and the next write opens a new one. */
  private async dropTornWrite(file: OpenFile): Promise<void> {
    try {
      await this.writer.truncate(file.fd, file.size);
    } catch {
      this.current = undefined;
      await this.writer.close(file.fd).catch(() => undefined);
    }
  }

  private failed(err: unknown): void {
    const code = (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
    const first = this.outage === undefined;
    this.outage ??= { code, since: new Date(this.now()).toISOString(), queued: 0, lost: 0 };
    this.retryTimer ??= setInterval(() => void this.retry(), RETRY_INTERVAL_MS).unref();
    this.options.onWriteFailed?.(code, first);
  }

  /** Unless a write is under way, tries to write the outage record and the backlog. */
  private retry(): Promise<void> {
    if (this.outage && !this.writing) this.writing = this.recover();
    return this.flush();
  }

  /** Writes the outage record, then the backlog; stops at the first failure and tries again later. */
  private async recover(): Promise<void> {
    const outage = this.outage!;
    let report: Pending | undefined;
    try {
      report = {
        ts: new Date(this.now()).toISOString(),
        event: { action: 'audit.write_failed', actor: SYSTEM_ACTOR, outcome: 'failure', details: { code: outage.code, since: outage.since, queued: this.queue.length, lost: outage.lost } },
        resolve: () => undefined,
        reject: () => undefined,
      };
      const backlog = this.queue.splice(0);
      const rest = await this.writeBatch([report, ...backlog]);
      if (rest.length === 0) {
        clearInterval(this.retryTimer);
        this.retryTimer = undefined;
        this.outage = undefined;
        this.options.onRecovered?.({ code: outage.code, queued: backlog.length, lost: outage.lost });
      } else if (rest[0] === report) {
        this.queue = [...backlog, ...this.queue];
      } else {
        // The outage record is written; what is still queued goes out on a later attempt.
        this.queue = [...rest, ...this.queue];
        this.outage = { ...this.outage!, queued: this.queue.length, lost: 0 };
      }
    } finally {
      this.writing = undefined;
    }
    // Events recorded while the backlog was written follow it.
    if (!this.outage && this.queue.length > 0) this.writing ??= this.drain();
  }

  private async fileFor(day: string, bytes: number): Promise<OpenFile> {
    const current = this.current;
    if (current && current.day === day && (current.size === 0 || current.size + bytes <= this.options.rotateBytes)) return current;
    const index = current && current.day === day ? current.index + 1 : nextIndex(this.options.dir, day);
    await this.closeCurrent();
    const name = trailFileName(day, index);
    const fd = await this.writer.open(join(this.options.dir, name));
    this.current = { fd, name, day, index, size: await this.writer.size(fd) };
    return this.fileFor(day, bytes);
  }

  private async closeCurrent(): Promise<void> {
    if (!this.current) return;
    const { fd } = this.current;
    this.current = undefined;
    try {
      await this.writer.sync(fd);
    } finally {
      await this.writer.close(fd);
    }
  }
}

/** Next index for a new file of `day`: never appends to a file a previous run wrote. */
function nextIndex(dir: string, day: string): number {
  const sameDay = listTrailFiles(dir).filter((f) => f.day === day);
  return sameDay.length === 0 ? 1 : sameDay[sameDay.length - 1].index + 1;
}

/** Where the chain continues: after the newest record on disk, the retention anchor, or genesis. */
function findHead(key: Buffer, dir: string): { seq: number; prev: string } {
  const files = listTrailFiles(dir);
  for (let i = files.length - 1; i >= 0; i--) {
    const lines = readTrailLines(files[i].path);
    if (lines.length === 0) continue;
    const last = openRecord(key, lines[lines.length - 1]);
    if (!last.ok) {
      throw new ToneguardError('audit_trail_broken', `the last audit record in ${files[i].name} does not verify (${last.reason}); run "toneguard audit verify"`, 500);
    }
    return { seq: last.record.seq + 1, prev: last.mac };
  }
  const anchor = readAnchor(dir);
  return anchor ? { seq: anchor.seq + 1, prev: anchor.mac } : { seq: 0, prev: GENESIS };
}
