import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

/** Worker entry of `WalCheckpointer`: its own connection to the vault database, checkpointing each time it is asked. */
const db = new Database(workerData as string);
db.pragma('busy_timeout = 5000');
// A checkpoint syncs the WAL before copying it and the database file after, as SQLite's own do.
db.pragma('synchronous = FULL');
parentPort!.on('message', (message: 'checkpoint' | 'close') => {
  if (message === 'close') {
    db.close();
    parentPort!.close();
    return;
  }
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    parentPort!.postMessage({ ok: true });
  } catch (err) {
    parentPort!.postMessage({ ok: false, code: (err as { code?: string }).code ?? 'EUNKNOWN' });
  }
});
