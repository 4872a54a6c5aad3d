import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/** Client-assertion ids already used, so that each assertion is good for one request only. */
export interface AssertionReplay {
  /** False when this id was already used. */
  claim(issuer: string, jti: string, expiresAtSec: number): Promise<boolean>;
  close(): void;
}

/**
 * Remembers assertion ids until they expire, so an assertion is good for one request only, and
 * stays so across a restart: a SQLite file under the data dir (mode 0600, fsynced before the
 * request goes on), pruned of expired ids as new ones arrive. Refusing far-future `exp` keeps
 * what it holds bounded by the assertion lifetime.
 */
export class AssertionReplayStore implements AssertionReplay {
  private readonly db: Database.Database;
  private readonly prune: Database.Statement<[number]>;
  private readonly insert: Database.Statement<[string, string, number]>;

  constructor(
    readonly path: string,
    private readonly now: () => number = Date.now,
  ) {
    if (path !== ':memory:') createPrivateFile(path);
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS used_assertions (
      issuer TEXT NOT NULL,
      jti TEXT NOT NULL,
      expires_at INTEGER NOT NULL,
      PRIMARY KEY (issuer, jti)
    ) STRICT;
    CREATE INDEX IF NOT EXISTS used_assertions_expiry ON used_assertions (expires_at);`);
    this.prune = this.db.prepare('DELETE FROM used_assertions WHERE expires_at < ?');
    this.insert = this.db.prepare('INSERT OR IGNORE INTO used_assertions (issuer, jti, expires_at) VALUES (?, ?, ?)');
  }

  async claim(issuer: string, jti: string, expiresAtSec: number): Promise<boolean> {
    this.prune.run(Math.floor(this.now() / 1000));
    return this.insert.run(issuer, jti, expiresAtSec).changes === 1;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** Creates the file 0600 before SQLite opens it; SQLite gives its -wal and -shm files the same mode. */
function createPrivateFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  closeSync(openSync(path, 'a', 0o600));
  chmodSync(path, 0o600);
}
