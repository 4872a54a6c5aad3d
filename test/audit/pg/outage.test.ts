// slow: real services (PostgreSQL, through a TCP proxy the test cuts; PostgreSQL itself is never restarted)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKLOG_LIMIT, type TrailOutage } from '../../../src/audit/audit-trail.js';
import { PgAuditTrail } from '../../../src/audit/pg/trail.js';
import { verifyPgAuditTrail } from '../../../src/audit/pg/read.js';
import { createPool, inTransaction, type DatabasePool } from '../../../src/db/pool.js';
import { auditDatabase, chainRecords, event, KEY, PostgresProxy } from './fixtures.js';
import { waitFor } from '../../helpers/twilio.js';

let database: Awaited<ReturnType<typeof auditDatabase>>;
let proxy: PostgresProxy;
let pool: DatabasePool;
beforeAll(async () => {
  database = await auditDatabase('audit_outage');
  proxy = new PostgresProxy();
  await proxy.start();
  pool = createPool({ url: proxy.url(database.db.url), size: 2 });
});
afterAll(async () => {
  await pool.end();
  await proxy.stop();
  await database.close();
});

const ids = (records: { resource?: { id: string } }[]) => records.map((r) => r.resource?.id);

describe('audit trail in PostgreSQL: outage', () => {
  it('unreachable: unavailable, events held in order, then written after an audit.write_failed record', async () => {
    const failures: { code: string; first: boolean }[] = [];
    const recoveries: TrailOutage[] = [];
    const trail = new PgAuditTrail({ pool, key: KEY, nodeId: 'n1', onWriteFailed: (code, first) => failures.push({ code, first }), onRecovered: (o) => recoveries.push(o) });
    await trail.record(event(0));
    expect(trail.available()).toBe(true);

    await proxy.cut();
    const held = Array.from({ length: 5 }, (_, i) => trail.record(event(i + 1)));
    let settled = 0;
    for (const promise of held) void promise.then(() => settled++);
    await waitFor(() => !trail.available());
    expect(failures[0]).toMatchObject({ first: true });
    // Retried every second; nothing settles, nothing throws, events keep being held.
    const more = trail.record(event(6));
    await waitFor(() => failures.length >= 2, 5_000);
    expect(settled).toBe(0);
    expect(trail.held).toBe(6);

    await proxy.restore();
    await Promise.all([...held, more]);
    expect(trail.available()).toBe(true);
    expect(recoveries).toEqual([{ code: failures[0].code, queued: 6, lost: 0 }]);
    const records = await chainRecords(database.pool);
    expect(records.map((r) => r.action)).toEqual(['vault.tokenize', 'audit.write_failed', ...Array(6).fill('vault.tokenize')]);
    expect(ids(records)).toEqual(['tok_n1_0', undefined, 'tok_n1_1', 'tok_n1_2', 'tok_n1_3', 'tok_n1_4', 'tok_n1_5', 'tok_n1_6']);
    expect(records[1].details).toMatchObject({ code: failures[0].code, queued: 6, lost: 0 });
    expect((await verifyPgAuditTrail(database.pool, KEY)).ok).toBe(true);
    await trail.close();
  });

  it('a full backlog rejects further events as lost (audit_unavailable) and says how many in audit.write_failed', async () => {
    const trail = new PgAuditTrail({ pool, key: KEY, nodeId: 'n1' });
    await proxy.cut();
    const held = Array.from({ length: BACKLOG_LIMIT }, (_, i) => trail.record(event(i)));
    await waitFor(() => !trail.available());
    const lost = await Promise.allSettled([trail.record(event(-1)), trail.record(event(-2))]);
    expect(lost.map((o) => o.status === 'rejected' && (o.reason as { code: string }).code)).toEqual(['audit_unavailable', 'audit_unavailable']);
    const before = (await chainRecords(database.pool)).length;
    await proxy.restore();
    await Promise.all(held);
    const records = (await chainRecords(database.pool)).slice(before);
    expect(records[0]).toMatchObject({ action: 'audit.write_failed', details: { queued: BACKLOG_LIMIT, lost: 2 } });
    expect(records).toHaveLength(BACKLOG_LIMIT + 1);
    expect(trail.stats.transactions).toBeGreaterThanOrEqual(Math.ceil((BACKLOG_LIMIT + 1) / 1_000));
    expect((await verifyPgAuditTrail(database.pool, KEY)).ok).toBe(true);
    await trail.close();
  });

  it('a COMMIT whose answer never arrives is found in the chain, not written twice', async () => {
    const trail = new PgAuditTrail({ pool, key: KEY, nodeId: 'n1' });
    const before = (await chainRecords(database.pool)).length;
    proxy.cutAfterCommit();
    const committed = [trail.record({ ...event(1), resource: { type: 'token', id: 'in_doubt_1' } }), trail.record({ ...event(2), resource: { type: 'token', id: 'in_doubt_2' } })];
    await waitFor(() => !trail.available());
    await Promise.all(committed);
    await trail.record({ ...event(3), resource: { type: 'token', id: 'after' } });
    const records = (await chainRecords(database.pool)).slice(before);
    expect(ids(records)).toEqual(['in_doubt_1', 'in_doubt_2', undefined, 'after']);
    expect(records[2].action).toBe('audit.write_failed');
    expect((await verifyPgAuditTrail(database.pool, KEY)).ok).toBe(true);
    await trail.close();
  });

  it('closing while unreachable rejects what is held as lost and never throws', async () => {
    const trail = new PgAuditTrail({ pool, key: KEY, nodeId: 'n1' });
    await proxy.cut();
    const held = trail.record(event(1));
    await waitFor(() => !trail.available());
    await trail.close();
    await expect(held).rejects.toMatchObject({ code: 'audit_unavailable' });
    await proxy.restore();
  });
});

describe('PostgreSQL connections lost mid-transaction', () => {
  it('fail the transaction, never the process (no unhandled error from the checked-out connection)', async () => {
    const work = inTransaction(pool, async (client) => {
      await client.query('SELECT 1');
      await proxy.cut();
      await new Promise((resolve) => setTimeout(resolve, 100));
      await client.query('SELECT 2');
    });
    await expect(work).rejects.toThrow();
    await proxy.restore();
    expect((await pool.query('SELECT 1 AS one')).rows[0].one).toBe(1);
  });
});
