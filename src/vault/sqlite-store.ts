import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { tallyVersions, tokenConflict, type KeyVersionCount, type StoredRecord, type SubjectKeyRecord, type TokenStore, type WrappedRef } from './store.js';
import type { WrappedKey } from './types.js';

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

interface PendingInsert {
  record: StoredRecord;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const isConstraintError = (err: unknown): boolean => (err as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT') ?? false;

/**
 * SQLite in WAL mode with `synchronous = FULL`: a write is on disk (fsynced) before its
 * promise resolves. Inserts arriving together share one transaction (group commit), so
 * concurrent tokenizes pay one fsync between them.
 */
export class SqliteTokenStore implements TokenStore {
  private readonly db: Database.Database;
  private pending: PendingInsert[] = [];
  private readonly statements;
  private readonly insertBatch;

  constructor(readonly path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    // Deleted rows are overwritten, so a deleted record's ciphertext does not linger in free pages.
    this.db.pragma('secure_delete = ON');
    this.db.exec(SCHEMA);
    migrate(this.db);
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
      if (this.pending.length === 0) setImmediate(() => this.flush());
      this.pending.push({ record, resolve, reject });
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    let outcomes: unknown[];
    try {
      outcomes = this.insertBatch(batch);
    } catch (err) {
      for (const item of batch) item.reject(err);
      return;
    }
    batch.forEach((item, i) => (outcomes[i] ? item.reject(outcomes[i]) : item.resolve()));
  }

  async get(tokenOrAlias: string): Promise<StoredRecord | undefined> {
    return fromRow(this.statements.get.get(tokenOrAlias, tokenOrAlias));
  }

  async findByFingerprint(fingerprint: string, now: number): Promise<StoredRecord | undefined> {
    return fromRow(this.statements.byFingerprint.get(fingerprint, now));
  }

  async replace(record: StoredRecord): Promise<boolean> {
    return this.statements.replace.run(toRow(record)).changes > 0;
  }

  async delete(token: string): Promise<boolean> {
    return this.statements.delete.run(token).changes > 0;
  }

  async deleteExpired(now: number): Promise<number> {
    return this.statements.deleteExpired.run(now).changes;
  }

  async disposeExpired(now: number, limit: number): Promise<string[]> {
    return this.statements.disposeExpired.all(now, limit).map((r) => r.token);
  }

  async flushDeleted(): Promise<boolean> {
    if (this.path === ':memory:') return true;
    const [result] = this.db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
    return result?.busy === 0;
  }

  async ensureSubjectKey(candidate: SubjectKeyRecord): Promise<SubjectKeyRecord> {
    this.statements.insertSubject.run(candidate.subjectId, candidate.keyVersion, candidate.wrappedKey, candidate.createdAt);
    return this.statements.getSubject.get(candidate.subjectId) as SubjectKeyRecord;
  }

  async getSubjectKey(subjectId: string): Promise<SubjectKeyRecord | undefined> {
    return this.statements.getSubject.get(subjectId);
  }

  async shredSubject(subjectId: string): Promise<number> {
    return this.db.transaction(() => {
      this.statements.deleteSubject.run(subjectId);
      return this.statements.deleteSubjectRecords.run(subjectId).changes;
    })();
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
    return this.db.transaction(() => {
      let applied = 0;
      for (const { ref, next } of changes) {
        const statement = ref.table === 'subject' ? this.statements.rewrapSubject : this.statements.rewrapRecord;
        applied += statement.run(next.keyVersion, next.wrapped, ref.id, ref.wrappedKey).changes;
      }
      return applied;
    })();
  }

  async countByKeyVersion(): Promise<KeyVersionCount[]> {
    const pairs = (rows: { key_version: number; n: number }[]) => rows.map((r): [number, number] => [r.key_version, r.n]);
    return tallyVersions(pairs(this.statements.recordVersions.all()), pairs(this.statements.subjectVersions.all()));
  }

  async close(): Promise<void> {
    if (this.pending.length > 0) this.flush();
    if (this.db.open) this.db.close();
  }
}
