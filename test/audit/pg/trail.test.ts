// slow: real services (PostgreSQL)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgAuditTrail } from '../../../src/audit/pg/trail.js';
import { readPgAuditPage, verifyPgAuditTrail } from '../../../src/audit/pg/read.js';
import { createPool, type DatabasePool } from '../../../src/db/pool.js';
import type { AuditRecord } from '../../../src/audit/chain.js';
import { auditDatabase, chainRecords, event, KEY } from './fixtures.js';

let database: Awaited<ReturnType<typeof auditDatabase>>;
beforeAll(async () => {
  database = await auditDatabase('audit_trail');
});
afterAll(() => database.close());

/** One trail per node, each on a pool of its own, as three node processes would be. */
function nodes(count: number): { trails: PgAuditTrail[]; pools: DatabasePool[] } {
  const pools = Array.from({ length: count }, () => createPool({ url: database.db.url, size: 2 }));
  return { pools, trails: pools.map((pool, i) => new PgAuditTrail({ pool, key: KEY, nodeId: `n${i + 1}` })) };
}

async function closeAll({ trails, pools }: { trails: PgAuditTrail[]; pools: DatabasePool[] }): Promise<void> {
  for (const trail of trails) await trail.close();
  for (const pool of pools) await pool.end();
}

describe('audit trail in PostgreSQL', () => {
  it('three nodes appending thousands of events at once make one gapless chain that verifies', async () => {
    const cluster = nodes(3);
    const perNode = 2_000;
    const seen: AuditRecord[] = [];
    cluster.trails[0].subscribe((record) => seen.push(record));
    // Bursts from every node, interleaved over many turns of the event loop.
    const durable: Promise<void>[] = [];
    for (let burst = 0; burst < 20; burst++) {
      for (const [n, trail] of cluster.trails.entries()) for (let i = 0; i < perNode / 20; i++) durable.push(trail.record(event(burst * 100 + i, `n${n + 1}`)));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(durable);
    const records = await chainRecords(database.pool);
    expect(records).toHaveLength(3 * perNode);
    expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i));
    for (const node of ['n1', 'n2', 'n3']) {
      const own = records.filter((r) => r.node === node);
      // Each node's events are in the chain in the order it recorded them.
      expect(own.map((r) => r.resource!.id)).toEqual(Array.from({ length: perNode }, (_, i) => `tok_${node}_${i}`));
    }
    expect(await verifyPgAuditTrail(database.pool, KEY, 500)).toEqual({ ok: true, files: 0, records: 3 * perNode, firstSeq: 0, lastSeq: 3 * perNode - 1 });
    // Subscribers hear of their own node's records, once each, as they commit.
    expect(seen.map((r) => r.resource!.id)).toEqual(records.filter((r) => r.node === 'n1').map((r) => r.resource!.id));
    // Group commit: far fewer transactions than records.
    const stats = cluster.trails.map((t) => t.stats);
    expect(stats.reduce((sum, s) => sum + s.records, 0)).toBe(3 * perNode);
    expect(stats.reduce((sum, s) => sum + s.transactions, 0)).toBeLessThan(perNode);
    await closeAll(cluster);
  });

  it('a record whose promise resolved is committed: another connection reads it at once', async () => {
    const cluster = nodes(1);
    const [trail] = cluster.trails;
    for (let i = 0; i < 5; i++) {
      const id = `durable_${i}`;
      await trail.record({ ...event(i), resource: { type: 'token', id } });
      const { rows } = await database.pool.query("SELECT seq FROM audit_records WHERE record->'resource'->>'id' = $1", [id]);
      expect(rows).toHaveLength(1);
    }
    await closeAll(cluster);
  });

  it('seals each record as the file trail does, scrubbed, with the node id and the link to the one before', async () => {
    const cluster = nodes(1);
    const [trail] = cluster.trails;
    await trail.record({ ...event(1), details: { note: 'typed 4111111111111111' } });
    const [last] = await readPgAuditPage(database.pool, { limit: 1 });
    expect(last).toMatchObject({ node: 'n1', action: 'vault.tokenize', details: { note: 'typed [REDACTED:pan]' } });
    expect(JSON.stringify(last)).not.toContain('4111111111111111');
    expect(last.prev).toMatch(/^[0-9a-f]{64}$/);
    await closeAll(cluster);
  });

  it('stores any event text verbatim (NUL, lone surrogates, quotes, backslashes, braces): no event can wedge the chain', async () => {
    const cluster = nodes(1);
    const [trail] = cluster.trails;
    const awkward = 'nul \u0000 lone \ud800 quote " backslash \\ braces {"a":[1]} comma, done';
    await trail.record({ ...event(1), resource: { type: 'token', id: 'awkward' }, details: { note: awkward } });
    const [stored] = await readPgAuditPage(database.pool, { limit: 1 });
    expect(stored.details!.note).toBe(awkward);
    expect((await verifyPgAuditTrail(database.pool, KEY)).ok).toBe(true);
    await closeAll(cluster);
  });

  it('pages: the newest without a cursor, forward from a seq or a time', async () => {
    const all = await chainRecords(database.pool);
    const tail = await readPgAuditPage(database.pool, { limit: 3 });
    expect(tail.map((r) => r.seq)).toEqual(all.slice(-3).map((r) => r.seq));
    const page = await readPgAuditPage(database.pool, { limit: 2, after: { seq: 10 } });
    expect(page).toEqual(all.slice(11, 13));
    const byTime = await readPgAuditPage(database.pool, { limit: 1, after: { time: new Date(Date.parse(all[0].ts) - 1) } });
    expect(byTime[0]).toEqual(all[0]);
  });

  it('an edited record fails verification naming its seq; records cut from the end are found too', async () => {
    const original = (await database.pool.query<{ line: string }>('SELECT record::text AS line FROM audit_records WHERE seq = 1234')).rows[0].line;
    await database.pool.query(`UPDATE audit_records SET record = replace(record::text, '"last4":"1111"', '"last4":"4242"')::json WHERE seq = 1234`);
    const broken = await verifyPgAuditTrail(database.pool, KEY, 500);
    expect(broken).toMatchObject({ ok: false, file: 'audit_records', seq: 1234, line: 1235 });
    expect(broken.ok === false && broken.reason).toMatch(/MAC mismatch/);
    await database.pool.query('UPDATE audit_records SET record = $1::json WHERE seq = 1234', [original]);
    expect((await verifyPgAuditTrail(database.pool, KEY)).ok).toBe(true);

    const last = (await database.pool.query<{ seq: string; line: string; ts: Date; node_id: string }>('DELETE FROM audit_records WHERE seq = (SELECT max(seq) FROM audit_records) RETURNING seq, record::text AS line, ts, node_id')).rows[0];
    expect(await verifyPgAuditTrail(database.pool, KEY)).toMatchObject({ ok: false, seq: Number(last.seq) - 1, reason: expect.stringMatching(/deleted from the end/) });
    await database.pool.query('INSERT INTO audit_records (seq, ts, node_id, record) VALUES ($1, $2, $3, $4::json)', [last.seq, last.ts, last.node_id, last.line]);
    expect((await verifyPgAuditTrail(database.pool, KEY)).ok).toBe(true);
  });
});
