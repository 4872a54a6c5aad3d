import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { SYSTEM_ACTOR, type AuditSink } from '../audit/types.js';

const RECORDING_FILE = /^[A-Za-z0-9_-]{1,128}\.tgrec$/;
const DAY_MS = 86_400_000;
/** Files examined at once: enough to keep the disk busy, few enough to leave the thread pool to the rest. */
const FILES_AT_ONCE = 16;

/**
 * Deletes finished recordings (`*.tgrec`) last written more than `retentionDays` ago, and
 * records one `recording.disposed` event naming them (recording ids only). Files still being
 * written (`.partial`) and anything else in the directory are left alone. Every file-system call
 * is asynchronous: a directory of a quarter's recordings (tens of thousands of files) is listed
 * and examined without holding up the call audio that shares the event loop.
 */
export async function disposeOldRecordings(dir: string, options: { retentionDays: number; now: number; audit: AuditSink }): Promise<number> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => RECORDING_FILE.test(name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  const cutoff = options.now - options.retentionDays * DAY_MS;
  const ids: string[] = [];
  for (let i = 0; i < names.length; i += FILES_AT_ONCE) {
    await Promise.all(names.slice(i, i + FILES_AT_ONCE).map(async (name) => {
      const path = join(dir, name);
      const info = await stat(path).catch(ignoreVanished);
      if (!info || info.mtimeMs >= cutoff) return;
      if (await unlink(path).then(() => true, ignoreVanished)) ids.push(name.slice(0, -'.tgrec'.length));
    }));
  }
  if (ids.length > 0) {
    ids.sort();
    options.audit.record({ action: 'recording.disposed', actor: SYSTEM_ACTOR, outcome: 'success', details: { reason: 'retention', retentionDays: options.retentionDays, count: ids.length, recordings: ids.join(',') } });
  }
  return ids.length;
}

/** A file removed between the listing and its turn (an operator, a second sweep) is no longer this sweep's. */
function ignoreVanished(err: NodeJS.ErrnoException): undefined {
  if (err.code === 'ENOENT') return undefined;
  throw err;
}
