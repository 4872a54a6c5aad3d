import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { tallyVersions, tokenConflict, type KeyVersionCount, type StoredRecord, type SubjectKeyRecord, type TokenStore, type WrappedRef } from './store.js';
import type { WrappedKey } from './types.js';
import { untilQuiet } from '../audit/trail-completions.js';
import { WalCheckpointer } from './wal-checkpointer.js';
import { WalSync, type SyncWaiter, type WalFileSync } from './wal-sync.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS records (
  token TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  brand TEXT, bin TEXT, last4 TEXT,
  alias TEXT UNIQUE,
  subject_id TEXT,
  fingerprint TEXT,
  key_version INTEGER NOT NULL,
  wrapped_key TEXT NOT NULL,
  ciphertext TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  readers TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS records_expires ON records (expires_at);
CREATE INDEX IF NOT EXISTS records_subject ON records (subject_id) WHERE subject_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS records_fingerprint ON records (fingerprint) WHERE fingerprint IS NOT NULL;
CREATE INDEX IF NOT EXISTS records_key_version ON records (key_version);
CREATE TABLE IF NOT EXISTS subject_keys (
  subject_id TEXT PRIMARY KEY,
  key_version INTEGER NOT NULL,
  wrapped_key TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
`;

/** Columns read back under the names the store interface uses; only `readers` (JSON) needs mapping. */
const RECORD_COLUMNS = `token, kind, brand, bin, last4, alias, subject_id AS subjectId, fingerprint, key_version AS keyVersion,
  wrapped_key AS wrappedKey, ciphertext, created_at AS createdAt, expires_at AS expiresAt, readers`;

/** A row as SQLite returns it: `readers` is a JSON array of processor names, NULL for a record stored before bindings. */
type RecordRow = Omit<StoredRecord, 'readers'> & { readers: string | null };

const fromRow = (row: RecordRow | undefined): StoredRecord | undefined => row && { ...row, readers: row.readers === null ? null : (JSON.parse(row.readers) as string[]) };
const toRow = (record: StoredRecord): RecordRow => ({ ...record, readers: record.readers === null ? null : JSON.stringify(record.readers) });

/**
 * A vault.db from before processor bindings gains the `readers` column, NULL on every existing
 * row: those records stay unbound, readable by no processor unless `vault.unboundReaders` says so.
 */
function migrate(db: Database.Database): void {
  const columns = db.prepare<[], { name: string }>("SELECT name FROM pragma_table_info('records')").all();
  if (!columns.some((c) => c.name === 'readers')) db.exec('ALTER TABLE records ADD COLUMN readers TEXT');
}

const SUBJECT_COLUMNS = 'subject_id AS subjectId, key_version AS keyVersion, wrapped_key AS wrappedKey, created_at AS createdAt';

interface PendingInsert extends SyncWaiter {
  record: StoredRecord;
}

export interface SqliteTokenStoreOptions {
  /** How the WAL reaches the disk (default: fdatasync on libuv's thread pool). */
  syncWal?: WalFileSync;
}

/** An in-memory database has no WAL and nothing to sync. */
const NOTHING_TO_SYNC = { wait: (waiter: SyncWaiter) => waiter.resolve(), synced: async () => undefined, idle: async () => undefined, close: () => undefined };

/** SQLite's default, for when checkpoints fall back to the main connection. */
const SQLITE_AUTOCHECKPOINT_PAGES = 1000;

/** Inserts committed in one transaction at most; more wait for the next. */
const MAX_INSERT_BATCH = 256;

const isConstraintError = (err: unknown): boolean => (err as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT') ?? false;

/**
 * SQLite in WAL mode: a write is on disk (its WAL frames fdatasynced, see `WalSync`) before its
 * promise resolves, and the sync runs off the event loop, shared by every commit made meanwhile.
 * Inserts arriving together also share one transaction, so concurrent tokenizes pay one commit
 * between them.
 */
export class SqliteTokenStore implements TokenStore {
  private readonly db: Database.Database;
  private pending: PendingInsert[] = [];
  private readonly statements;
  private readonly insertBatch;
  private readonly wal: Pick<WalSync, 'wait' | 'synced' | 'idle' | 'close'>;
  private readonly checkpointer: WalCheckpointer | undefined;

  constructor(
    readonly path: string,
    options: SqliteTokenStoreOptions = {},
  ) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // Commits do not sync on the event loop; every write waits for `WalSync` instead (the same guarantee as FULL).
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    // Deleted rows are overwritten, so a deleted record's ciphertext does not linger in free pages.
    this.db.pragma('secure_delete = ON');
    this.db.exec(SCHEMA);
    migrate(this.db);
    this.wal = path === ':memory:' ? NOTHING_TO_SYNC : new WalSync(path, options.syncWal);
    if (path !== ':memory:') {
      // Checkpoints run on a worker (see WalCheckpointer), not inside a commit on the event loop.
      this.db.pragma('wal_autocheckpoint = 0');
      this.checkpointer = new WalCheckpointer(path, () => this.db.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`));
    }
    const db = this.db;
    this.statements = {
      insert: db.prepare(
        `INSERT INTO records (token, kind, brand, bin, last4, alias, subject_id, fingerprint, key_version, wrapped_key, ciphertext, created_at, expires_at, readers)
         VALUES (@token, @kind, @brand, @bin, @last4, @alias, @subjectId, @fingerprint, @keyVersion, @wrappedKey, @ciphertext, @createdAt, @expiresAt, @readers)`,
      ),
      get: db.prepare<[string, string], RecordRow>(
        `SELECT ${RECORD_COLUMNS} FROM records WHERE token = ? UNION ALL SELECT ${RECORD_COLUMNS} FROM records WHERE alias = ? LIMIT 1`,
      ),
      byFingerprint: db.prepare<[string, number], RecordRow>(`SELECT ${RECORD_COLUMNS} FROM records WHERE fingerprint = ? AND expires_at > ? LIMIT 1`),
      replace: db.prepare(
        `UPDATE records SET key_version = @keyVersion, wrapped_key = @wrappedKey, ciphertext = @ciphertext, expires_at = @expiresAt,
           brand = @brand, bin = @bin, last4 = @last4, readers = @readers WHERE token = @token`,
      ),
      delete: db.prepare<[string]>('DELETE FROM records WHERE token = ?'),
      deleteExpired: db.prepare<[number]>('DELETE FROM records WHERE expires_at <= ?'),
      disposeExpired: db.prepare<[number, number], { token: string }>(
        'DELETE FROM records WHERE token IN (SELECT token FROM records WHERE expires_at <= ? ORDER BY expires_at LIMIT ?) RETURNING token',
      ),
      insertSubject: db.prepare<[string, number, string, number]>(
        'INSERT OR IGNORE INTO subject_keys (subject_id, key_version, wrapped_key, created_at) VALUES (?, ?, ?, ?)',
      ),
      getSubject: db.prepare<[string], SubjectKeyRecord>(`SELECT ${SUBJECT_COLUMNS} FROM subject_keys WHERE subject_id = ?`),
      deleteSubject: db.prepare<[string]>('DELETE FROM subject_keys WHERE subject_id = ?'),
      deleteSubjectRecords: db.prepare<[string]>('DELETE FROM records WHERE subject_id = ?'),
      subjectsNotUnder: db.prepare<[number, number], SubjectKeyRecord>(`SELECT ${SUBJECT_COLUMNS} FROM subject_keys WHERE key_version != ? LIMIT ?`),
      recordsNotUnder: db.prepare<[number, number], { token: string; keyVersion: number; wrappedKey: string }>(
        'SELECT token, key_version AS keyVersion, wrapped_key AS wrappedKey FROM records WHERE key_version != ? LIMIT ?',
      ),
      rewrapRecord: db.prepare<[number, string, string, string]>('UPDATE records SET key_version = ?, wrapped_key = ? WHERE token = ? AND wrapped_key = ?'),
      rewrapSubject: db.prepare<[number, string, string, string]>(
        'UPDATE subject_keys SET key_version = ?, wrapped_key = ? WHERE subject_id = ? AND wrapped_key = ?',
      ),
      recordVersions: db.prepare<[], { key_version: number; n: number }>('SELECT key_version, COUNT(*) AS n FROM records GROUP BY key_version'),
      subjectVersions: db.prepare<[], { key_version: number; n: number }>('SELECT key_version, COUNT(*) AS n FROM subject_keys GROUP BY key_version'),
    };
    this.insertBatch = db.transaction((batch: PendingInsert[]) =>
      batch.map((item) => {
        try {
          this.statements.insert.run(toRow(item.record));
          return null;
        } catch (err) {
          // A failed INSERT rolls back only itself; the rest of the batch still commits.
          return isConstraintError(err) ? tokenConflict() : err;
        }
      }),
    );
  }

  insert(record: StoredRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.pending.length === 0) void untilQuiet(() => this.pending.length, MAX_INSERT_BATCH).then(this.flushUnlessCatchingUp);
      this.pending.push({ record, resolve, reject });
    });
  }

  /** Holds the commit while a checkpoint's catch-up pass runs (see `WalCheckpointer`), so that pass copies every frame. */
  private readonly flushUnlessCatchingUp = (): void => {
    if (this.checkpointer?.catchingUp) return void this.checkpointer.idle().then(this.flushUnlessCatchingUp);
    this.flush();
  };

  /** Commits the inserts queued in one transaction, which costs far less per row than a few small ones. */
  private flush(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    let outcomes: unknown[];
    try {
      outcomes = this.insertBatch(batch);
    } catch (err) {
      for (const item of batch) item.reject(err);
      return;
    }
    this.checkpointer?.committed();
    batch.forEach((item, i) => (outcomes[i] ? item.reject(outcomes[i]) : this.wal.wait(item)));
  }

  /** Returns `result` once the commit that produced it is on disk. */
  private async durable<T>(result: T): Promise<T> {
    this.checkpointer?.committed();
    await this.wal.synced();
    return result;
  }

  async get(tokenOrAlias: string): Promise<StoredRecord | undefined> {
    return fromRow(this.statements.get.get(tokenOrAlias, tokenOrAlias));
  }

  async findByFingerprint(fingerprint: string, now: number): Promise<StoredRecord | undefined> {
    return fromRow(this.statements.byFingerprint.get(fingerprint, now));
  }

  async replace(record: StoredRecord): Promise<boolean> {
    return this.durable(this.statements.replace.run(toRow(record)).changes > 0);
  }

  async delete(token: string): Promise<boolean> {
    return this.durable(this.statements.delete.run(token).changes > 0);
  }

  async deleteExpired(now: number): Promise<number> {
    return this.durable(this.statements.deleteExpired.run(now).changes);
  }

  async disposeExpired(now: number, limit: number): Promise<string[]> {
    return this.durable(this.statements.disposeExpired.all(now, limit).map((r) => r.token));
  }

  async flushDeleted(): Promise<boolean> {
    if (this.path === ':memory:') return true;
    const [result] = this.db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
    return result?.busy === 0;
  }

  async ensureSubjectKey(candidate: SubjectKeyRecord): Promise<SubjectKeyRecord> {
    this.statements.insertSubject.run(candidate.subjectId, candidate.keyVersion, candidate.wrappedKey, candidate.createdAt);
    // Synced even when the key was there already: another caller's commit of it may not be on disk yet.
    return this.durable(this.statements.getSubject.get(candidate.subjectId) as SubjectKeyRecord);
  }

  async getSubjectKey(subjectId: string): Promise<SubjectKeyRecord | undefined> {
    return this.statements.getSubject.get(subjectId);
  }

  async shredSubject(subjectId: string): Promise<number> {
    return this.durable(
      this.db.transaction(() => {
        this.statements.deleteSubject.run(subjectId);
        return this.statements.deleteSubjectRecords.run(subjectId).changes;
      })(),
    );
  }

  async wrappedNotUnder(version: number, limit: number): Promise<WrappedRef[]> {
    const subjects = this.statements.subjectsNotUnder.all(version, limit).map(
      (s): WrappedRef => ({ table: 'subject', id: s.subjectId, keyVersion: s.keyVersion, wrappedKey: s.wrappedKey }),
    );
    const rest = limit - subjects.length;
    const records = rest > 0 ? this.statements.recordsNotUnder.all(version, rest) : [];
    return [...subjects, ...records.map((r): WrappedRef => ({ table: 'record', id: r.token, keyVersion: r.keyVersion, wrappedKey: r.wrappedKey }))];
  }

  async updateWrapped(changes: { ref: WrappedRef; next: WrappedKey }[]): Promise<number> {
    return this.durable(
      this.db.transaction(() => {
        let applied = 0;
        for (const { ref, next } of changes) {
          const statement = ref.table === 'subject' ? this.statements.rewrapSubject : this.statements.rewrapRecord;
          applied += statement.run(next.keyVersion, next.wrapped, ref.id, ref.wrappedKey).changes;
        }
        return applied;
      })(),
    );
  }

  async countByKeyVersion(): Promise<KeyVersionCount[]> {
    const pairs = (rows: { key_version: number; n: number }[]) => rows.map((r): [number, number] => [r.key_version, r.n]);
    return tallyVersions(pairs(this.statements.recordVersions.all()), pairs(this.statements.subjectVersions.all()));
  }

  async close(): Promise<void> {
    if (this.pending.length > 0) this.flush();
    await this.wal.idle();
    await this.checkpointer?.close();
    if (!this.db.open) return;
    this.db.close();
    this.wal.close();
  }
}
