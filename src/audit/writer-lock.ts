import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const WRITER_LOCK_FILE = 'writer.lock';

export interface WriterLock {
  release(): void;
}

/** Lock files this process holds: its own pid in a lock file it does not hold is a stale lock from a restart (pid 1 in a container). */
const heldHere = new Set<string>();

/**
 * The one-writer lock of an audit trail directory. Two writers would each continue the chain
 * from the same record and fork it, so only the holder appends. Returns undefined when a live
 * process holds the lock; a lock left behind by a process that is gone is taken over.
 */
export function acquireWriterLock(dir: string): WriterLock | undefined {
  const path = join(dir, WRITER_LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      heldHere.add(path);
      return { release: () => release(path) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (isHeld(path)) return undefined;
      removeIfPresent(path);
    }
  }
  return undefined;
}

function isHeld(path: string): boolean {
  if (heldHere.has(path)) return true;
  let pid: number;
  try {
    pid = Number(readFileSync(path, 'utf8'));
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function release(path: string): void {
  if (!heldHere.delete(path)) return;
  removeIfPresent(path);
}

function removeIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
