import { once, type EventEmitter } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { startSiblingWorker } from '../workers.js';

/** What the checkpointer needs of its worker (test seam: a fake that answers when told). */
export type CheckpointWorker = EventEmitter & Pick<Worker, 'postMessage' | 'unref'>;

const startCheckpointWorker = (databasePath: string): CheckpointWorker =>
  startSiblingWorker(import.meta.url, 'wal-checkpoint-worker', { workerData: databasePath });

/** Commits between two checkpoints: about SQLite's own 1000 pages with a few dozen rows per commit. */
export const COMMITS_PER_CHECKPOINT = 16;

/**
 * Checkpoints the vault's WAL (copies it into the database file, with its fsyncs) on a worker
 * thread, from a connection of its own, instead of inside whichever commit crossed SQLite's
 * auto-checkpoint threshold: that one commit would hold the event loop for milliseconds. Only
 * checkpoints run there; every row is still written on the main thread.
 *
 * The WAL starts over from its beginning only when a write transaction begins after a checkpoint
 * that copied every frame; under a steady stream of commits a pass never catches up (frames
 * committed while it runs are left for the next), and the WAL would grow without end. So after a
 * pass during which something was committed, inserts hold their next commit (`catchingUp`) while
 * one more pass copies the few frames left, which takes about a commit's time.
 *
 * The worker starts with the first checkpoint, so a short-lived store (a CLI command) never pays
 * for it. If the worker fails, `fallBack` hands checkpoints back to SQLite on the main connection.
 */
export class WalCheckpointer {
  private worker: CheckpointWorker | undefined;
  private commits = 0;
  private commitsDuringPass = 0;
  private running = false;
  private failed = false;
  private catchUpPass = false;
  private readonly done = new Set<() => void>();

  constructor(
    private readonly databasePath: string,
    private readonly fallBack: () => void,
    private readonly startWorker: (databasePath: string) => CheckpointWorker = startCheckpointWorker,
  ) {}

  /** A catch-up pass is under way: inserts hold their commit until it is done. */
  get catchingUp(): boolean {
    return this.catchUpPass;
  }

  /** Call after each commit. */
  committed(): void {
    this.commits += 1;
    if (this.running) this.commitsDuringPass += 1;
    if (this.commits < COMMITS_PER_CHECKPOINT || this.running || this.failed) return;
    this.commits = 0;
    this.pass();
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

  private pass(): void {
    this.running = true;
    this.commitsDuringPass = 0;
    this.started().postMessage('checkpoint');
  }

  private started(): CheckpointWorker {
    if (this.worker) return this.worker;
    const worker = this.startWorker(this.databasePath);
    worker.unref();
    worker.on('message', (result: { ok: boolean }) => (result.ok ? this.finished() : this.fail()));
    // An error ends the worker: 'exit' follows and handles it.
    worker.on('error', () => undefined);
    worker.on('exit', () => {
      // Unexpected unless `close` let go of it first; either way no pass is running any more.
      if (this.worker !== worker) return this.settle();
      this.worker = undefined;
      this.fail();
    });
    this.worker = worker;
    return worker;
  }

  private finished(): void {
    // One catch-up pass per checkpoint: if even that one fell behind, the next checkpoint tries again.
    const catchUp = this.commitsDuringPass > 0 && !this.catchUpPass && this.worker !== undefined;
    this.catchUpPass = catchUp;
    if (catchUp) return this.pass();
    this.settle();
  }

  private settle(): void {
    this.running = false;
    this.catchUpPass = false;
    for (const resolve of this.done) resolve();
    this.done.clear();
  }

  private fail(): void {
    if (!this.failed) this.fallBack();
    this.failed = true;
    this.settle();
  }
}
