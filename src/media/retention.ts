import { readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { SYSTEM_ACTOR, type AuditSink } from '../audit/types.js';

const RECORDING_FILE = /^[A-Za-z0-9_-]{1,128}\.tgrec$/;
const DAY_MS = 86_400_000;

/**
 * Deletes finished recordings (`*.tgrec`) last written more than `retentionDays` ago, and
 * records one `recording.disposed` event naming them (recording ids only). Files still being
 * written (`.partial`) and anything else in the directory are left alone.
 */
export function disposeOldRecordings(dir: string, options: { retentionDays: number; now: number; audit: AuditSink }): number {
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => RECORDING_FILE.test(name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  const cutoff = options.now - options.retentionDays * DAY_MS;
  const disposed = names.filter((name) => statSync(join(dir, name)).mtimeMs < cutoff);
  for (const name of disposed) unlinkSync(join(dir, name));
  if (disposed.length > 0) {
    const ids = disposed.map((name) => name.slice(0, -'.tgrec'.length));
    options.audit.record({ action: 'recording.disposed', actor: SYSTEM_ACTOR, outcome: 'success', details: { reason: 'retention', retentionDays: options.retentionDays, count: ids.length, recordings: ids.join(',') } });
  }
  return disposed.length;
}
