import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate } from '../../src/db/migrate.js';
import { createPool } from '../../src/db/pool.js';

/** The machine's PostgreSQL (trust authentication on loopback); `TONEGUARD_TEST_PG` overrides it. */
export const POSTGRES_ADMIN_URL = process.env.TONEGUARD_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A new, empty database of its own for one test file, dropped (with its connections) by `drop`. */
export async function createTestDatabase(label = 'tg'): Promise<TestDatabase> {
  const name = `${label}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** A new database migrated to this build's schema, as `toneguard db migrate` leaves it: what a cluster node starts on. */
export async function createMigratedTestDatabase(label = 'tg'): Promise<TestDatabase> {
  const db = await createTestDatabase(label);
  const pool = createPool({ url: db.url, size: 1 });
  try {
    await migrate(pool);
  } finally {
    await pool.end();
  }
  return db;
}
