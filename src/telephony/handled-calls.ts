import Database from 'better-sqlite3';
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';

const DAY_MS = 86_400_000;
/** Expired rows are deleted at most this often (and at open). */
const PRUNE_EVERY_MS = 60 * 60_000;

/** Where one provider's answered call ids are remembered across restarts (Twilio's: `twilio-calls.db`). */
export function handledCallsPath(dataDir: string, provider: string): string {
  return join(dataDir, `${provider}-calls.db`);
}

/** The platform call ids whose voice webhook Toneguard has already answered: each is answered once, ever. */
export interface HandledCalls {
  /** Records the call id; false when it was already handled (a retry or a replay). */
  claim(callId: string): Promise<boolean>;
  close(): void;
}

/**
 * The platform call ids whose voice webhook Toneguard has already answered, kept on disk. A
 * Twilio signature has no timestamp, so a captured signed webhook stays valid forever (and other
 * platforms' timestamps only narrow the window): remembering each call id across restarts (for
 * `retainDays`) is what makes a replay harmless.
 */
export class HandledCallStore implements HandledCalls {
  private readonly db: Database.Database;
  private readonly claimStmt: Database.Statement<[string, number]>;
  private readonly pruneStmt: Database.Statement<[number]>;
  private prunedAt = 0;

  constructor(
    path: string,
    private readonly retainDays: number,
    private readonly now: () => number = Date.now,
  ) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // Created 0600 before SQLite opens it; SQLite gives its -wal and -shm files the same mode.
    closeSync(openSync(path, 'a', 0o600));
    chmodSync(path, 0o600);
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.exec('CREATE TABLE IF NOT EXISTS handled_calls (call_sid TEXT PRIMARY KEY, handled_at INTEGER NOT NULL)');
    this.claimStmt = this.db.prepare('INSERT OR IGNORE INTO handled_calls (call_sid, handled_at) VALUES (?, ?)');
    this.pruneStmt = this.db.prepare('DELETE FROM handled_calls WHERE handled_at < ?');
    this.prune();
  }

  async claim(callId: string): Promise<boolean> {
    if (this.now() - this.prunedAt > PRUNE_EVERY_MS) this.prune();
    return this.claimStmt.run(callId, this.now()).changes === 1;
  }

  close(): void {
    this.db.close();
  }

  private prune(): void {
    this.prunedAt = this.now();
    this.pruneStmt.run(this.prunedAt - this.retainDays * DAY_MS);
  }
}
