import { closeSync, openSync } from 'node:fs';
import { CompletionQueue, untilQuiet } from '../audit/trail-completions.js';
import { fdatasyncOffTheLoop } from '../audit/trail-files.js';

/** Writes one fdatasync waits for at most before it starts. */
const SYNC_BATCH_LIMIT = 256;

/** How a waiting write learns that its commit is on disk, or that the disk may have lost it. */
export interface SyncWaiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** fdatasync of the WAL file (test seam: a disk as slow or as broken as a test likes). */
export type WalFileSync = (fd: number) => Promise<void>;

/**
 * Group commit for SQLite's write-ahead log, with the fsync off the event loop. SQLite runs with
 * `synchronous = NORMAL`: a commit appends its frames to the WAL (a `write` into the page cache)
 * and returns without syncing. Every write waits here before it resolves: one fdatasync of the WAL
 * is in flight at a time, on libuv's thread pool, and every commit made while it runs shares the
 * next one. This is what `synchronous = FULL` does at each commit, minus the event loop sitting in
 * the syscall (checkpoints still sync the WAL and the database file themselves). Waiters are
 * settled a few per turn (`CompletionQueue`).
 *
 * The descriptor stays valid while the database is open: SQLite deletes or replaces the WAL file
 * only when the last connection closes, and resets it in place (same file) after a checkpoint.
 */
export class WalSync {
  private readonly fd: number;
  private waiting: SyncWaiter[] = [];
  private loop: Promise<void> | undefined;
  private readonly completions = new CompletionQueue();

  /** Opens the WAL of the database at `databasePath`, which SQLite must already have created. */
  constructor(
    databasePath: string,
    private readonly sync: WalFileSync = fdatasyncOffTheLoop,
  ) {
    this.fd = openSync(`${databasePath}-wal`, 'r');
  }

  /** Settles `waiter` once everything committed before this call is on disk. */
  wait(waiter: SyncWaiter): void {
    this.waiting.push(waiter);
    this.loop ??= this.run();
  }

  synced(): Promise<void> {
    return new Promise((resolve, reject) => this.wait({ resolve, reject }));
  }

  /** Resolves once every sync asked for is done and its waiters settled. */
  async idle(): Promise<void> {
    while (this.loop) await this.loop;
    await this.completions.drained();
  }

  /** Call after `idle`, once the database is closed. */
  close(): void {
    closeSync(this.fd);
  }

  private async run(): Promise<void> {
    try {
      for (;;) {
        // Commits made while callers resume a slice per turn share the sync.
        await untilQuiet(() => this.waiting.length, SYNC_BATCH_LIMIT);
        if (this.waiting.length === 0) break;
        const round = this.waiting.splice(0);
        try {
          await this.sync(this.fd);
          this.completions.release(round.map((w) => w.resolve));
        } catch (err) {
          this.completions.release(round.map((w) => () => w.reject(err)));
        }
      }
    } finally {
      this.loop = undefined;
    }
  }
}
