// slow: real services (PostgreSQL). Measures, does not assert speed: figures go to the test output.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgAuditTrail } from '../../../src/audit/pg/trail.js';
import { verifyPgAuditTrail } from '../../../src/audit/pg/read.js';
import { createPool, type DatabasePool } from '../../../src/db/pool.js';
import { auditDatabase, event, KEY } from './fixtures.js';

let database: Awaited<ReturnType<typeof auditDatabase>>;
beforeAll(async () => {
  database = await auditDatabase('audit_speed');
});
afterAll(() => database.close());

const RUN_MS = 2_000;

/**
 * `writers` nodes (a pool each), each with `callers` concurrent callers that await every record
 * before the next (a tokenize awaits its record): how many records and transactions per second.
 */
async function closedLoop(writers: number, callers: number): Promise<string> {
  const pools: DatabasePool[] = Array.from({ length: writers }, () => createPool({ url: database.db.url, size: 2 }));
  const trails = pools.map((pool, i) => new PgAuditTrail({ pool, key: KEY, nodeId: `n${i + 1}` }));
  const started = performance.now();
  const deadline = started + RUN_MS;
  const caller = async (trail: PgAuditTrail) => {
    for (let i = 0; performance.now() < deadline; i++) await trail.record(event(i));
  };
  await Promise.all(trails.flatMap((trail) => Array.from({ length: callers }, () => caller(trail))));
  const seconds = (performance.now() - started) / 1000;
  const records = trails.reduce((sum, t) => sum + t.stats.records, 0);
  const transactions = trails.reduce((sum, t) => sum + t.stats.transactions, 0);
  for (const trail of trails) await trail.close();
  for (const pool of pools) await pool.end();
  return `${writers} writer(s) × ${callers} awaiting caller(s): ${Math.round(records / seconds)} records/s, ${Math.round(transactions / seconds)} transactions/s, ${(records / transactions).toFixed(1)} records/transaction`;
}

/** `writers` nodes each handed `perWriter` events at once (a burst): how fast the chain takes them. */
async function burst(writers: number, perWriter: number): Promise<string> {
  const pools: DatabasePool[] = Array.from({ length: writers }, () => createPool({ url: database.db.url, size: 2 }));
  const trails = pools.map((pool, i) => new PgAuditTrail({ pool, key: KEY, nodeId: `n${i + 1}` }));
  const started = performance.now();
  await Promise.all(trails.flatMap((trail) => Array.from({ length: perWriter }, (_, i) => trail.record(event(i)))));
  const seconds = (performance.now() - started) / 1000;
  const transactions = trails.reduce((sum, t) => sum + t.stats.transactions, 0);
  for (const trail of trails) await trail.close();
  for (const pool of pools) await pool.end();
  return `${writers} writer(s), a burst of ${perWriter} each: ${Math.round((writers * perWriter) / seconds)} records/s, ${Math.round(transactions / seconds)} transactions/s, ${((writers * perWriter) / transactions).toFixed(1)} records/transaction`;
}

describe('PostgreSQL audit trail throughput (figures for sizing)', () => {
  it('appends per second with 1 and 3 writers', async () => {
    const lines: string[] = [];
    for (const callers of [1, 50]) for (const writers of [1, 3]) lines.push(await closedLoop(writers, callers));
    for (const writers of [1, 3]) lines.push(await burst(writers, 5_000));
    console.log(`PostgreSQL audit chain, this machine under its current load, ${RUN_MS / 1000} s each:\n${lines.join('\n')}`);
    expect((await verifyPgAuditTrail(database.pool, KEY)).ok).toBe(true);
  });
});
