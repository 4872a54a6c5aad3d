import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { startSiblingWorker } from '../workers.js';

/** Commits between two checkpoints: about SQLite's own 1000 pages with a few dozen rows per commit. */
export const COMMITS_PER_CHECKPOINT = 16;

/**
 * Checkpoints the vault's WAL (copies it into the database file, with its fsyncs) on a worker
 * thread, from a connection of its own, instead of inside whichever commit crossed SQLite's
 * auto-checkpoint threshold: that one commit would hold the event loop for milliseconds. Only
 * checkpoints run there; every row is still written on the main thread. The worker starts with
 * the first checkpoint, so a short-lived store (a CLI command) never pays for it. If the worker
 * fails, `fallBack` hands checkpoints back to SQLite on the main connection.
 */
export class WalCheckpointer {
  private worker: Worker | undefined;
  private commits = 0;
  private running = false;
  private failed = false;
  private readonly done = new Set<() => void>();

  constructor(
    private readonly databasePath: string,
    private readonly fallBack: () => void,
  ) {}

  /** Call after each commit. */
  committed(): void {
    this.commits += 1;
    if (this.commits < COMMITS_PER_CHECKPOINT || this.running || this.failed) return;
    this.commits = 0;
    this.running = true;
    this.started().postMessage('checkpoint');
  }

  /** Resolves once no checkpoint is under way. */
  idle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.done.add(resolve));
  }

  /** Lets the checkpoint under way finish, then closes the worker's connection; call before closing the main one. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    await this.idle();
    const exited = once(worker, 'exit');
    worker.postMessage('close');
    await exited;
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = startSiblingWorker(import.meta.url, 'wal-checkpoint-worker', { workerData: this.databasePath });
    worker.unref();
    worker.on('message', (result: { ok: boolean }) => (result.ok ? this.finished() : this.fail()));
    // An error ends the worker: 'exit' follows and handles it.
    worker.on('error', () => undefined);
    worker.on('exit', () => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.fail();
    });
    this.worker = worker;
    return worker;
  }

  private finished(): void {
    this.running = false;
    for (const resolve of this.done) resolve();
    this.done.clear();
  }

  private fail(): void {
    if (!this.failed) this.fallBack();
    this.failed = true;
    this.finished();
  }
}
