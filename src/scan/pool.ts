import type { Worker } from 'node:worker_threads';
import { startSiblingWorker } from '../workers.js';
import type { ScanJob, ScanOutcome } from './job.js';

interface Pending {
  job: ScanJob;
  resolve: (outcome: ScanOutcome) => void;
}

/**
 * A fixed pool of scan workers, one job each at a time. A worker that dies (out of memory on a
 * huge file, say) fails only its own job and is replaced.
 */
export class ScanPool {
  private readonly idle: Worker[] = [];
  private readonly queue: Pending[] = [];
  private readonly busy = new Map<Worker, Pending>();
  private closed = false;

  constructor(size: number) {
    for (let i = 0; i < size; i++) this.idle.push(this.spawn());
  }

  scan(job: ScanJob): Promise<ScanOutcome> {
    return new Promise((resolve) => {
      this.queue.push({ job, resolve });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.idle, ...this.busy.keys()].map((w) => w.terminate()));
  }

  private spawn(): Worker {
    const worker = startSiblingWorker(import.meta.url, 'worker');
    worker.on('message', (outcome: ScanOutcome) => this.finish(worker, outcome, true));
    worker.on('error', () => this.finish(worker, { ok: false, error: { code: 'scan_failed', message: 'the scan worker failed on this file' } }, false));
    return worker;
  }

  private finish(worker: Worker, outcome: ScanOutcome, reusable: boolean): void {
    const pending = this.busy.get(worker);
    this.busy.delete(worker);
    pending?.resolve(outcome);
    if (this.closed) return;
    if (reusable) this.idle.push(worker);
    else {
      void worker.terminate();
      this.idle.push(this.spawn());
    }
    this.dispatch();
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop()!;
      const pending = this.queue.shift()!;
      this.busy.set(worker, pending);
      worker.postMessage(pending.job);
    }
  }
}
