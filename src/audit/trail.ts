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
  /** fdatasync after every record (default). Off only for bulk tests. */
  syncEachRecord?: boolean;
  /** Told when the scrubber masked something in a record: a bug upstream. */
  onScrub?: ScrubListener;
  /** Where bytes go (default: the file system). */
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

interface Pending {
  ts: string;
  event: AuditEvent;
}

/**
 * The append-only, hash-chained audit trail: one JSON line per security event, each
 * carrying an HMAC over the previous record's MAC and its own content. Files rotate by size
 * and by UTC day, and the chain runs across them. Writes are synchronous, so records are
 * on disk, in order, before `record` returns.
 *
 * When a write fails (a full disk, an I/O error) `record` does not throw into its caller (a
 * refused upgrade, a media frame): the torn write is cut off, the trail reports itself
 * unavailable, keeps events in a bounded backlog and retries every second. On recovery it writes
 * an `audit.write_failed` record saying what happened, then the backlog, in order, in the chain.
 */
export class FileAuditTrail implements AuditSink {
  private current: OpenFile | undefined;
  private seq: number;
  private prev: string;
  private readonly listeners = new Set<AuditListener>();
  private readonly now: () => number;
  private readonly writer: TrailFileWriter;
  private outage: (TrailOutage & { since: string }) | undefined;
  private backlog: Pending[] = [];
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

  record(event: AuditEvent): void {
    const pending = { ts: new Date(this.now()).toISOString(), event };
    if (this.outage) return this.enqueue(pending);
    try {
      this.append(pending);
    } catch (err) {
      this.failed(err);
      this.enqueue(pending);
    }
  }

  /** Every record, after it is written. Returns the unsubscribe function. */
  subscribe(listener: AuditListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  flush(): void {
    if (this.current) this.writer.sync(this.current.fd);
  }

  /** Syncs and closes the current file. A record arriving later (a straggler at shutdown) opens a new file and keeps the chain. */
  close(): void {
    if (this.outage) this.retry();
    clearInterval(this.retryTimer);
    this.retryTimer = undefined;
    try {
      this.closeCurrent();
    } catch {
      // Nothing more can be done for a file the disk refuses to sync; its complete records are on it.
      this.current = undefined;
    }
    this.lock?.release();
    this.lock = undefined;
  }

  /** Seals and writes one event; on failure nothing of it stays in the file and the chain head is unchanged. */
  private append({ ts, event }: Pending): void {
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
      if (this.options.syncEachRecord !== false) this.writer.sync(file.fd);
    } catch (err) {
      this.dropTornWrite(file);
      throw err;
    }
    file.size += bytes.length;
    this.seq += 1;
    this.prev = sealed.mac;
    const written = JSON.parse(body) as AuditRecord;
    for (const listener of this.listeners) {
      try {
        listener(written);
      } catch {
        // A subscriber's failure must never lose or block a record.
      }
    }
  }

  /** Cuts a failed write off the file; if even that fails, the file is left behind and the next write opens a new one. */
  private dropTornWrite(file: OpenFile): void {
    try {
      this.writer.truncate(file.fd, file.size);
    } catch {
      try {
        this.writer.close(file.fd);
      } catch {
        // Already unusable; the descriptor is dropped either way.
      }
      this.current = undefined;
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
    if (this.backlog.length < BACKLOG_LIMIT) this.backlog.push(pending);
    else if (this.outage) this.outage.lost += 1;
  }

  /** Writes the outage record and the backlog; stops at the first failure and tries again later. */
  private retry(): void {
    const outage = this.outage;
    if (!outage) return;
    const report: Pending = {
      ts: new Date(this.now()).toISOString(),
      event: { action: 'audit.write_failed', actor: SYSTEM_ACTOR, outcome: 'failure', details: { code: outage.code, since: outage.since, queued: this.backlog.length, lost: outage.lost } },
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

  private closeCurrent(): void {
    if (!this.current) return;
    const { fd } = this.current;
    this.current = undefined;
    try {
      this.writer.sync(fd);
    } finally {
      this.writer.close(fd);
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
