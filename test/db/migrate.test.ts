import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSchema, migrate, SCHEMA_VERSION } from '../../src/db/migrate.js';
import type { Migration } from '../../src/db/migrations/index.js';
import { createPool, type DatabasePool } from '../../src/db/pool.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';

const V1: Migration = { version: 1, name: 'first', sql: 'CREATE TABLE one (id integer PRIMARY KEY)' };
const V2: Migration = { version: 2, name: 'second', sql: 'CREATE TABLE two (id integer PRIMARY KEY)' };

describe('db migrate (real PostgreSQL)', () => {
  let db: TestDatabase;
  let pool: DatabasePool;
  beforeAll(async () => {
    db = await createTestDatabase('migrate');
    pool = createPool({ url: db.url, size: 4 });
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('refuses an unmigrated database, applies migrations once, and then accepts it', async () => {
    await expect(checkSchema(pool, [V1])).rejects.toMatchObject({ code: 'schema_unmigrated' });
    expect(await migrate(pool, [V1])).toEqual({ applied: [1], version: 1 });
    expect(await migrate(pool, [V1])).toEqual({ applied: [], version: 1 });
    await expect(checkSchema(pool, [V1])).resolves.toBeUndefined();
  });

  it('runs concurrent migrations from several nodes exactly once', async () => {
    const reports = await Promise.all([migrate(pool, [V1, V2]), migrate(pool, [V1, V2]), migrate(pool, [V1, V2])]);
    expect(reports.flatMap((r) => r.applied)).toEqual([2]);
    expect(SCHEMA_VERSION([V1, V2])).toBe(2);
  });

  it('refuses a schema newer than the build, both to start and to migrate', async () => {
    await expect(checkSchema(pool, [V1])).rejects.toMatchObject({ code: 'schema_newer' });
    await expect(migrate(pool, [V1])).rejects.toMatchObject({ code: 'schema_newer' });
  });
});
