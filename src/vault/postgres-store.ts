import type pg from 'pg';
import { inTransaction, type DatabasePool } from '../db/pool.js';
import { tallyVersions, tokenConflict, type KeyVersionCount, type StoredRecord, type SubjectKeyRecord, type TokenStore, type WrappedRef } from './store.js';
import type { WrappedKey } from './types.js';

/** Columns read back under the names the store interface uses; times are bigint, read as numbers (epoch ms fits a double exactly). */
const RECORD_COLUMNS = `token, kind, brand, bin, last4, alias, subject_id AS "subjectId", fingerprint, key_version AS "keyVersion",
  wrapped_key AS "wrappedKey", ciphertext, readers, created_at::float8 AS "createdAt", expires_at::float8 AS "expiresAt"`;
const SUBJECT_COLUMNS = 'subject_id AS "subjectId", key_version AS "keyVersion", wrapped_key AS "wrappedKey", created_at::float8 AS "createdAt"';

const UNIQUE_VIOLATION = '23505';
const FINGERPRINT_INDEX = 'vault_records_fingerprint';

/** The index a unique violation names, if `err` is one. */
const uniqueViolation = (err: unknown): string | undefined => {
  const e = err as { code?: string; constraint?: string };
  return e.code === UNIQUE_VIOLATION ? (e.constraint ?? '') : undefined;
};
const conflictOr = (err: unknown): unknown => (uniqueViolation(err) === undefined ? err : tokenConflict());

/**
 * The vault's records in PostgreSQL (cluster mode; schema: migration 1), shared by every node.
 * A write resolves once committed (the server's own durability: `synchronous_commit`, replicas).
 * Token, alias and fingerprint are unique, so two nodes racing to store the same card converge:
 * the later insert fails with `token_conflict`.
 */
export class PostgresTokenStore implements TokenStore {
  private closed = false;

  constructor(
    private readonly pool: DatabasePool,
    /** Whether `close` ends the pool: only when the store made it. */
    private readonly ownsPool = false,
  ) {}

  async insert(record: StoredRecord): Promise<void> {
    try {
      await this.insertRow(record);
      return;
    } catch (err) {
      // An expired record keeps its fingerprint until it is disposed of, yet is no longer found by it (`findByFingerprint` wants a live one): it gives the fingerprint up.
      if (uniqueViolation(err) !== FINGERPRINT_INDEX || !(await this.releaseExpiredFingerprint(record))) throw conflictOr(err);
    }
    try {
      await this.insertRow(record);
    } catch (err) {
      throw conflictOr(err);
    }
  }

  private async insertRow(r: StoredRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO vault_records (token, kind, brand, bin, last4, alias, subject_id, fingerprint, key_version, wrapped_key, ciphertext, readers, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [r.token, r.kind, r.brand, r.bin, r.last4, r.alias, r.subjectId, r.fingerprint, r.keyVersion, r.wrappedKey, r.ciphertext, r.readers, r.createdAt, r.expiresAt],
    );
  }

  private async releaseExpiredFingerprint(record: StoredRecord): Promise<boolean> {
    const { rowCount } = await this.pool.query('UPDATE vault_records SET fingerprint = NULL WHERE fingerprint = $1 AND expires_at <= $2', [record.fingerprint, record.createdAt]);
    return (rowCount ?? 0) > 0;
  }

  async get(tokenOrAlias: string): Promise<StoredRecord | undefined> {
    const { rows } = await this.pool.query<StoredRecord>(
      `SELECT ${RECORD_COLUMNS} FROM vault_records WHERE token = $1 UNION ALL SELECT ${RECORD_COLUMNS} FROM vault_records WHERE alias = $1 LIMIT 1`,
      [tokenOrAlias],
    );
    return rows[0];
  }

  async findByFingerprint(fingerprint: string, now: number): Promise<StoredRecord | undefined> {
    const { rows } = await this.pool.query<StoredRecord>(`SELECT ${RECORD_COLUMNS} FROM vault_records WHERE fingerprint = $1 AND expires_at > $2 LIMIT 1`, [fingerprint, now]);
    return rows[0];
  }

  async replace(r: StoredRecord): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE vault_records SET key_version = $2, wrapped_key = $3, ciphertext = $4, expires_at = $5, brand = $6, bin = $7, last4 = $8, readers = $9 WHERE token = $1`,
      [r.token, r.keyVersion, r.wrappedKey, r.ciphertext, r.expiresAt, r.brand, r.bin, r.last4, r.readers],
    );
    return (rowCount ?? 0) > 0;
  }

  async delete(token: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM vault_records WHERE token = $1', [token]);
    return (rowCount ?? 0) > 0;
  }

  async deleteExpired(now: number): Promise<number> {
    const { rowCount } = await this.pool.query('DELETE FROM vault_records WHERE expires_at <= $1', [now]);
    return rowCount ?? 0;
  }

  async disposeExpired(now: number, limit: number): Promise<string[]> {
    // SKIP LOCKED: two nodes' sweepers dispose of different records instead of waiting on each other.
    const { rows } = await this.pool.query<{ token: string }>(
      `DELETE FROM vault_records WHERE token IN (
         SELECT token FROM vault_records WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED
       ) RETURNING token`,
      [now, limit],
    );
    return rows.map((r) => r.token);
  }

  /**
   * Nothing to do from here: PostgreSQL reclaims a deleted row's space at VACUUM (autovacuum) and
   * its WAL segments at checkpoints, on the server's schedule. The rows hold ciphertext under
   * per-record keys, and deleting the row deletes its wrapped key, so what lingers is unreadable.
   */
  async flushDeleted(): Promise<boolean> {
    return true;
  }

  async ensureSubjectKey(candidate: SubjectKeyRecord): Promise<SubjectKeyRecord> {
    const { rows } = await this.pool.query<SubjectKeyRecord>(
      `WITH inserted AS (
         INSERT INTO vault_subject_keys (subject_id, key_version, wrapped_key, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (subject_id) DO NOTHING RETURNING ${SUBJECT_COLUMNS}
       )
       SELECT * FROM inserted UNION ALL SELECT ${SUBJECT_COLUMNS} FROM vault_subject_keys WHERE subject_id = $1 LIMIT 1`,
      [candidate.subjectId, candidate.keyVersion, candidate.wrappedKey, candidate.createdAt],
    );
    return rows[0]!;
  }

  async getSubjectKey(subjectId: string): Promise<SubjectKeyRecord | undefined> {
    const { rows } = await this.pool.query<SubjectKeyRecord>(`SELECT ${SUBJECT_COLUMNS} FROM vault_subject_keys WHERE subject_id = $1`, [subjectId]);
    return rows[0];
  }

  async shredSubject(subjectId: string): Promise<number> {
    return inTransaction(this.pool, async (client) => {
      await client.query('DELETE FROM vault_subject_keys WHERE subject_id = $1', [subjectId]);
      const { rowCount } = await client.query('DELETE FROM vault_records WHERE subject_id = $1', [subjectId]);
      return rowCount ?? 0;
    });
  }

  async wrappedNotUnder(version: number, limit: number): Promise<WrappedRef[]> {
    const { rows: subjects } = await this.pool.query<{ id: string; keyVersion: number; wrappedKey: string }>(
      'SELECT subject_id AS id, key_version AS "keyVersion", wrapped_key AS "wrappedKey" FROM vault_subject_keys WHERE key_version <> $1 LIMIT $2',
      [version, limit],
    );
    const rest = limit - subjects.length;
    const records =
      rest > 0
        ? (
            await this.pool.query<{ id: string; keyVersion: number; wrappedKey: string }>(
              'SELECT token AS id, key_version AS "keyVersion", wrapped_key AS "wrappedKey" FROM vault_records WHERE key_version <> $1 LIMIT $2',
              [version, rest],
            )
          ).rows
        : [];
    return [...subjects.map((s): WrappedRef => ({ table: 'subject', ...s })), ...records.map((r): WrappedRef => ({ table: 'record', ...r }))];
  }

  async updateWrapped(changes: { ref: WrappedRef; next: WrappedKey }[]): Promise<number> {
    if (changes.length === 0) return 0;
    return inTransaction(this.pool, async (client: pg.PoolClient) => {
      let applied = 0;
      for (const { ref, next } of changes) {
        const sql =
          ref.table === 'subject'
            ? 'UPDATE vault_subject_keys SET key_version = $1, wrapped_key = $2 WHERE subject_id = $3 AND wrapped_key = $4'
            : 'UPDATE vault_records SET key_version = $1, wrapped_key = $2 WHERE token = $3 AND wrapped_key = $4';
        applied += (await client.query(sql, [next.keyVersion, next.wrapped, ref.id, ref.wrappedKey])).rowCount ?? 0;
      }
      return applied;
    });
  }

  async countByKeyVersion(): Promise<KeyVersionCount[]> {
    const tally = async (table: string) =>
      (await this.pool.query<{ v: number; n: number }>(`SELECT key_version AS v, COUNT(*)::int AS n FROM ${table} GROUP BY key_version`)).rows.map(
        (r): [number, number] => [r.v, r.n],
      );
    return tallyVersions(await tally('vault_records'), await tally('vault_subject_keys'));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsPool) await this.pool.end();
  }
}
