import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { COMMITS_PER_CHECKPOINT, WalCheckpointer, type CheckpointWorker } from '../../src/vault/wal-checkpointer.js';

/** A checkpoint worker that records what it is asked and answers when the test says. */
function fakeWorker() {
  const worker = Object.assign(new EventEmitter(), {
    asked: [] as string[],
    postMessage(message: string) {
      worker.asked.push(message);
      if (message === 'close') queueMicrotask(() => worker.emit('exit', 0));
    },
    unref: () => worker,
    answer: (ok = true) => worker.emit('message', { ok }),
  });
  return worker;
}

function checkpointer() {
  const worker = fakeWorker();
  let fellBack = 0;
  let started = 0;
  const subject = new WalCheckpointer(
    'vault.db',
    () => (fellBack += 1),
    () => ((started += 1), worker as unknown as CheckpointWorker),
  );
  const commit = (times: number) => {
    for (let i = 0; i < times; i++) subject.committed();
  };
  return { subject, worker, commit, fellBack: () => fellBack, started: () => started };
}

const checkpoints = (asked: string[]) => asked.filter((m) => m === 'checkpoint').length;

describe('WAL checkpoints on a worker', () => {
  it('asks for a checkpoint every so many commits, starting the worker only then, one at a time', () => {
    const { worker, commit, started } = checkpointer();
    commit(COMMITS_PER_CHECKPOINT - 1);
    expect(started()).toBe(0);
    commit(1);
    expect(started()).toBe(1);
    expect(checkpoints(worker.asked)).toBe(1);
    commit(3 * COMMITS_PER_CHECKPOINT);
    expect(checkpoints(worker.asked)).toBe(1);
  });

  it('after a pass that commits overlapped, holds inserts for one short catch-up pass so the WAL can start over', async () => {
    const { subject, worker, commit } = checkpointer();
    commit(COMMITS_PER_CHECKPOINT);
    commit(2);
    worker.answer();
    expect(checkpoints(worker.asked)).toBe(2);
    expect(subject.catchingUp).toBe(true);
    let idle = false;
    void subject.idle().then(() => (idle = true));
    worker.answer();
    await Promise.resolve();
    expect(subject.catchingUp).toBe(false);
    expect(idle).toBe(true);
  });

  it('needs no catch-up when nothing was committed during the pass', () => {
    const { subject, worker, commit } = checkpointer();
    commit(COMMITS_PER_CHECKPOINT);
    worker.answer();
    expect(subject.catchingUp).toBe(false);
    expect(checkpoints(worker.asked)).toBe(1);
  });

  it('hands checkpoints back to SQLite if the worker fails, and stops asking it', () => {
    const { worker, commit, fellBack } = checkpointer();
    commit(COMMITS_PER_CHECKPOINT);
    worker.answer(false);
    expect(fellBack()).toBe(1);
    commit(COMMITS_PER_CHECKPOINT);
    expect(checkpoints(worker.asked)).toBe(1);
  });

  it('closes the worker once its pass is done', async () => {
    const { subject, worker, commit } = checkpointer();
    commit(COMMITS_PER_CHECKPOINT);
    const closing = subject.close();
    await Promise.resolve();
    expect(worker.asked).not.toContain('close');
    worker.answer();
    await closing;
    expect(worker.asked.at(-1)).toBe('close');
  });
});
