import { closeSync, fdatasyncSync, fstatSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { GENESIS, openRecord, sealRecord, type AuditRecord } from './chain.js';
import { scrub } from './scrubber.js';
import type { ScrubListener } from './logger.js';
import { listTrailFiles, readAnchor, readTrailLines, trailFileName } from './trail-files.js';
import type { AuditEvent, AuditSink } from './types.js';
import { acquireWriterLock, WRITER_LOCK_FILE, type WriterLock } from './writer-lock.js';
import { ToneguardError } from '../errors.js';

export type AuditListener = (record: AuditRecord) => void;

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
}

interface OpenFile {
  fd: number;
  name: string;
  day: string;
  index: number;
  size: number;
}

/**
 * The append-only, hash-chained audit trail: one JSON line per security event, each
 * carrying an HMAC over the previous record's MAC and its own content. Files rotate by size
 * and by UTC day, and the chain runs across them. Writes are synchronous, so records are
 * on disk, in order, before `record` returns.
 */
export class FileAuditTrail implements AuditSink {
  private current: OpenFile | undefined;
  private seq: number;
  private prev: string;
  private readonly listeners = new Set<AuditListener>();
  private readonly now: () => number;

  private lock: WriterLock | undefined;

  /** Throws `audit_trail_busy` when another live process writes this trail (see `writer-lock.ts`). */
  constructor(private readonly options: FileAuditTrailOptions) {
    this.now = options.now ?? Date.now;
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

  record(event: AuditEvent): void {
    // A straggler after close (shutdown) takes the lock back; no other writer can have started in between in practice.
    this.lock ??= acquireWriterLock(this.options.dir);
    const ts = new Date(this.now()).toISOString();
    const scrubbed = scrub(JSON.stringify({ seq: this.seq, ts, ...event }), { json: true });
    if (scrubbed.hits.length > 0) this.options.onScrub?.(scrubbed.hits);
    const body = `${scrubbed.text.slice(0, -1)},"prev":"${this.prev}"}`;
    const sealed = sealRecord(this.options.key, body);
    const bytes = Buffer.from(`${sealed.line}\n`, 'utf8');
    const file = this.fileFor(ts.slice(0, 10), bytes.length);
    writeSync(file.fd, bytes);
    if (this.options.syncEachRecord !== false) fdatasyncSync(file.fd);
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

  /** Every record, after it is written. Returns the unsubscribe function. */
  subscribe(listener: AuditListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  flush(): void {
    if (this.current) fdatasyncSync(this.current.fd);
  }

  /** Syncs and closes the current file. A record arriving later (a straggler at shutdown) opens a new file and keeps the chain. */
  close(): void {
    this.closeCurrent();
    this.lock?.release();
    this.lock = undefined;
  }

  private fileFor(day: string, bytes: number): OpenFile {
    const current = this.current;
    if (current && current.day === day && (current.size === 0 || current.size + bytes <= this.options.rotateBytes)) return current;
    const index = current && current.day === day ? current.index + 1 : nextIndex(this.options.dir, day);
    this.closeCurrent();
    const name = trailFileName(day, index);
    const fd = openSync(join(this.options.dir, name), 'a', 0o600);
    this.current = { fd, name, day, index, size: fstatSync(fd).size };
    return this.fileFor(day, bytes);
  }

  private closeCurrent(): void {
    if (!this.current) return;
    fdatasyncSync(this.current.fd);
    closeSync(this.current.fd);
    this.current = undefined;
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
