import { ToneguardError } from '../errors.js';
import { MIGRATIONS, type Migration } from './migrations/index.js';
import { inTransaction, type DatabasePool } from './pool.js';

/** Serialises concurrent `db migrate` runs (and node starts) on one database: any constant works. */
const MIGRATION_LOCK = 0x746f6e65;

const BOOKKEEPING = `CREATE TABLE IF NOT EXISTS toneguard_schema (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

export interface MigrationReport {
  applied: number[];
  version: number;
}

/** The highest migration this build knows. */
export const SCHEMA_VERSION = (migrations: readonly Migration[] = MIGRATIONS): number => migrations.reduce((max, m) => Math.max(max, m.version), 0);

/** Applies every migration not yet applied, in order, each in its own transaction; idempotent and safe to run from several nodes at once. */
export async function migrate(pool: DatabasePool, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrationReport> {
  return inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(BOOKKEEPING);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM toneguard_schema');
    const done = new Set(rows.map((r) => r.version));
    const newer = [...done].filter((v) => v > SCHEMA_VERSION(migrations));
    if (newer.length > 0) throw schemaNewer(Math.max(...newer), SCHEMA_VERSION(migrations));
    const applied: number[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query('INSERT INTO toneguard_schema (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      applied.push(migration.version);
    }
    return { applied, version: SCHEMA_VERSION(migrations) };
  });
}

/**
 * Refuses to run against a database this build cannot use: one not migrated to this build's
 * version (`schema_unmigrated`: run `toneguard db migrate`), or one migrated by a newer build
 * (`schema_newer`). A node never migrates by itself: schema changes are an operator's step.
 */
export async function checkSchema(pool: DatabasePool, migrations: readonly Migration[] = MIGRATIONS): Promise<void> {
  const expected = SCHEMA_VERSION(migrations);
  const exists = await pool.query<{ found: boolean }>("SELECT to_regclass('toneguard_schema') IS NOT NULL AS found");
  const versions = exists.rows[0]?.found ? (await pool.query<{ version: number }>('SELECT version FROM toneguard_schema')).rows.map((r) => r.version) : [];
  const newest = versions.reduce((max, v) => Math.max(max, v), 0);
  if (newest > expected) throw schemaNewer(newest, expected);
  const missing = migrations.filter((m) => !versions.includes(m.version)).map((m) => m.version);
  if (missing.length > 0) {
    throw new ToneguardError('schema_unmigrated', `The database schema is at version ${newest}, this build needs ${expected}: run \`toneguard db migrate\``, 500);
  }
}

function schemaNewer(found: number, expected: number): ToneguardError {
  return new ToneguardError('schema_newer', `The database schema is at version ${found}, newer than this build's ${expected}: upgrade this node`, 500);
}
