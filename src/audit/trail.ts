import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BACKLOG_LIMIT, lostError, notifyListeners, RETRY_INTERVAL_MS, type AuditListener, type AuditTrail, type TrailOutage } from './audit-trail.js';
import { GENESIS, openRecord, sealRecord, type AuditRecord } from './chain.js';
import { CompletionQueue, untilQuiet } from './trail-completions.js';
import { scrub } from './scrubber.js';
import type { ScrubListener } from './logger.js';
import { fsTrailFileWriter, listTrailFiles, readAnchor, readTrailLines, trailFileName, type TrailFileWriter } from './trail-files.js';
import { SYSTEM_ACTOR, type AuditEvent } from './types.js';
import { acquireWriterLock, WRITER_LOCK_FILE, type WriterLock } from './writer-lock.js';
import { ToneguardError } from '../errors.js';

export interface FileAuditTrailOptions {
  dir: string;
  key: Buffer;
  /** Start a new file once the current one would grow past this. */
  rotateBytes: number;
  now?: () => number;
  /** fdatasync each batch before its records count as durable (default). Off only for bulk tests. */
  syncEachBatch?: boolean;
  /** Told when the scrubber masked something in a record: a bug upstream. */
  onScrub?: ScrubListener;
  /** Where bytes go (default: the file system; fdatasync on libuv's thread pool). */
  writer?: TrailFileWriter;
  /** Told on every failed write attempt; `first` marks the start of an outage. */
  onWriteFailed?: (code: string, first: boolean) => void;
  /** Told when writes succeed again after an outage, with what it cost. */
  onRecovered?: (outage: TrailOutage) => void;
}

/** Records one fdatasync waits for at most before it starts. */
const SYNC_BATCH_LIMIT = 256;

interface OpenFile {
  fd: number;
  name: string;
  day: string;
  index: number;
  size: number;
}

/** An event not yet written, and how to settle the promise `record` handed out for it. */
interface Pending {
  ts: string;
  event: AuditEvent;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * The append-only, hash-chained audit trail: one JSON line per security event, each
 * carrying an HMAC over the previous record's MAC and its own content. Files rotate by size
 * and by UTC day, and the chain runs across them.
 *
 * Group commit, with the fsync off the event loop: `record` seals the event and appends its line
 * at once (a `write` into the page cache: in order, visible to readers, microseconds), then returns
 * a promise that resolves once the line is durable. One fdatasync is in flight at a time, on
 * libuv's thread pool; every record written while it runs shares the next one. So a burst of
 * events costs a few fsyncs and never blocks a frame. Callers that must not go on before the
 * record is durable (a tokenize) await the promise; the rest ignore it (it never rejects unhandled).
 *
 * When a write fails (a full disk, an I/O error) `record` does not throw into its caller (a
 * refused upgrade, a media frame): the torn write is cut off, the trail reports itself
 * unavailable, keeps events in a bounded backlog and retries every second. On recovery it writes
 * an `audit.write_failed` record saying what happened, then the backlog, in order, in the chain.
 */
export class FileAuditTrail implements AuditTrail {
  private current: OpenFile | undefined;
  private seq: number;
  private prev: string;
  private readonly listeners = new Set<AuditListener>();
  private readonly now: () => number;
  private readonly writer: TrailFileWriter;
  private outage: (TrailOutage & { since: string }) | undefined;
  private backlog: Pending[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  /** Records written but not yet synced, with the file each is in. */
  private unsynced: { fd: number; pending: Pending }[] = [];
  /** Files rotated away from: synced, then closed, by the sync loop. */
  private retired: number[] = [];
  /** The sync loop under way: one fdatasync at a time. */
  private syncing: Promise<void> | undefined;
  /** Settles synced records a few per turn, so a batch's waiting callers do not resume all at once. */
  private readonly completions = new CompletionQueue();

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

  /** Writes `event` now; the promise resolves once it is durable. Safe to ignore. */
  record(event: AuditEvent): Promise<void> {
    let settle: Pick<Pending, 'resolve' | 'reject'> | undefined;
    const durable = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    // Fire-and-forget callers never see a rejection as unhandled; those who await still get it.
    durable.catch(() => undefined);
    const pending: Pending = { ts: new Date(this.now()).toISOString(), event, ...settle! };
    if (this.outage) {
      this.enqueue(pending);
      return durable;
    }
    try {
      this.append(pending);
    } catch (err) {
      this.failed(err);
      this.enqueue(pending);
    }
    return durable;
  }

  /** Every record, after it is written. Returns the unsubscribe function. */
  subscribe(listener: AuditListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once every record written so far is synced and its promise settled. */
  async flush(): Promise<void> {
    while (this.syncing) await this.syncing;
    await this.completions.drained();
  }

  /**
   * Makes one last attempt if the trail is unavailable, then syncs and closes the current file: when
   * it resolves, every record written is durable. A record arriving later (a straggler at shutdown)
   * opens a new file and keeps the chain.
   */
  async close(): Promise<void> {
    if (this.outage) this.retry();
    clearInterval(this.retryTimer);
    this.retryTimer = undefined;
    if (this.outage) for (const pending of this.backlog.splice(0)) pending.reject(lostError());
    this.closeCurrent();
    await this.flush();
    this.lock?.release();
    this.lock = undefined;
  }

  /** Seals and writes one event; on failure nothing of it stays in the file and the chain head is unchanged. */
  private append(pending: Pending): void {
    const { ts, event } = pending;
    // A straggler after close (shutdown) takes the lock back; no other writer can have started in between in practice.
    this.lock ??= acquireWriterLock(this.options.dir);
    const scrubbed = scrub(JSON.stringify({ seq: this.seq, ts, ...event }), { json: true });
    if (scrubbed.hits.length > 0) this.options.onScrub?.(scrubbed.hits);
    const body = `${scrubbed.text.slice(0, -1)},"prev":"${this.prev}"}`;
    const sealed = sealRecord(this.options.key, body);
    const bytes = Buffer.from(`${sealed.line}\n`, 'utf8');
    const file = this.fileFor(ts.slice(0, 10), bytes.length);
    try {
      this.writer.append(file.fd, bytes);
    } catch (err) {
      this.dropTornWrite(file);
      throw err;
    }
    file.size += bytes.length;
    this.seq += 1;
    this.prev = sealed.mac;
    this.unsynced.push({ fd: file.fd, pending });
    this.syncing ??= this.syncLoop();
    // Parsing the line back costs as much as sealing it: only for someone listening.
    if (this.listeners.size > 0) notifyListeners(this.listeners, JSON.parse(body) as AuditRecord);
  }

  /** Cuts a failed write off the file; if even that fails, the file is left behind and the next write opens a new one. */
  private dropTornWrite(file: OpenFile): void {
    try {
      this.writer.truncate(file.fd, file.size);
    } catch {
      // The sync loop may still sync records written to it earlier; it closes the descriptor after.
      this.retired.push(file.fd);
      this.current = undefined;
      this.syncing ??= this.syncLoop();
    }
  }

  private failed(err: unknown): void {
    const code = (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
    const first = this.outage === undefined;
    this.outage ??= { code, since: new Date(this.now()).toISOString(), queued: 0, lost: 0 };
    this.retryTimer ??= setInterval(() => this.retry(), RETRY_INTERVAL_MS).unref();
    this.options.onWriteFailed?.(code, first);
  }

  private enqueue(pending: Pending): void {
    if (this.backlog.length < BACKLOG_LIMIT) return void this.backlog.push(pending);
    if (this.outage) this.outage.lost += 1;
    pending.reject(lostError());
  }

  /**
   * Syncs what was written, one fdatasync per file per round, off the event loop; records written
   * meanwhile wait for the next round, which starts while this round's promises are still being
   * settled, a slice per turn. A failed sync (an I/O error) rejects its records: the disk
   * may have lost them, and the trail reports itself unavailable until a write succeeds again.
   */
  private async syncLoop(): Promise<void> {
    try {
      for (;;) {
        // Records written while callers resume a slice per turn share the fsync.
        await untilQuiet(() => this.unsynced.length, SYNC_BATCH_LIMIT);
        if (this.unsynced.length + this.retired.length === 0) break;
        const batch = this.unsynced.splice(0);
        const retired = this.retired.splice(0);
        const fds = new Set([...batch.map((b) => b.fd), ...retired]);
        try {
          if (this.options.syncEachBatch !== false) for (const fd of fds) await this.writer.sync(fd);
          this.completions.release(batch.map(({ pending }) => pending.resolve));
        } catch (err) {
          this.failed(err);
          this.completions.release(batch.map(({ pending }) => () => pending.reject(lostError())));
        } finally {
          for (const fd of retired) this.closeQuietly(fd);
        }
      }
    } finally {
      this.syncing = undefined;
    }
  }

  private closeQuietly(fd: number): void {
    try {
      this.writer.close(fd);
    } catch {
      // Already unusable; the descriptor is dropped either way.
    }
  }

  /** Writes the outage record and the backlog; stops at the first failure and tries again later. */
  private retry(): void {
    const outage = this.outage;
    if (!outage) return;
    const report: Pending = {
      ts: new Date(this.now()).toISOString(),
      event: { action: 'audit.write_failed', actor: SYSTEM_ACTOR, outcome: 'failure', details: { code: outage.code, since: outage.since, queued: this.backlog.length, lost: outage.lost } },
      resolve: () => undefined,
      reject: () => undefined,
    };
    try {
      this.append(report);
    } catch (err) {
      return this.failed(err);
    }
    const queued = this.backlog.length;
    let written = 0;
    try {
      for (; written < queued; written++) this.append(this.backlog[written]);
    } catch (err) {
      // The outage record is written; what is still queued goes out on a later attempt.
      this.backlog = this.backlog.slice(written);
      this.outage = { ...outage, queued: this.backlog.length, lost: 0 };
      return this.failed(err);
    }
    this.backlog = [];
    clearInterval(this.retryTimer);
    this.retryTimer = undefined;
    this.outage = undefined;
    this.options.onRecovered?.({ code: outage.code, queued, lost: outage.lost });
  }

  private fileFor(day: string, bytes: number): OpenFile {
    const current = this.current;
    if (current && current.day === day && (current.size === 0 || current.size + bytes <= this.options.rotateBytes)) return current;
    const index = current && current.day === day ? current.index + 1 : nextIndex(this.options.dir, day);
    this.closeCurrent();
    const name = trailFileName(day, index);
    const fd = this.writer.open(join(this.options.dir, name));
    this.current = { fd, name, day, index, size: this.writer.size(fd) };
    return this.fileFor(day, bytes);
  }

  /** Hands the current file to the sync loop, which syncs and closes it off the event loop. */
  private closeCurrent(): void {
    if (!this.current) return;
    this.retired.push(this.current.fd);
    this.current = undefined;
    this.syncing ??= this.syncLoop();
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
