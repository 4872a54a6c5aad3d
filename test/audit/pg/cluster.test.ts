// slow: real services (PostgreSQL; the CLI runs as a child process)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/audit/logger.js';
import { Metrics } from '../../../src/audit/metrics.js';
import { openOperatorAudit } from '../../../src/audit/operator.js';
import { verifyPgAuditTrail } from '../../../src/audit/pg/read.js';
import { applyPgRetention } from '../../../src/audit/pg/retention.js';
import { PgAuditTrail } from '../../../src/audit/pg/trail.js';
import { createAuditSystem } from '../../../src/audit/setup.js';
import { parseConfig } from '../../../src/config/index.js';
import { createPool } from '../../../src/db/pool.js';
import { lastJsonLine, runCliAsync } from '../../helpers/cli.js';
import { createTestDatabase } from '../../helpers/postgres.js';
import { auditDatabase, chainRecords, event, KEY } from './fixtures.js';

const DAY = 86_400_000;
let database: Awaited<ReturnType<typeof auditDatabase>>;
beforeAll(async () => {
  database = await auditDatabase('audit_cluster');
});
afterAll(() => database.close());

function clusterConfig(nodeId: string, extra: Record<string, unknown> = {}, dataDir = mkdtempSync(join(tmpdir(), 'toneguard-pg-audit-'))) {
  return parseConfig({
    dataDir,
    audit: { hmacKey: KEY.toString('utf8') },
    cluster: { redisUrl: 'redis://127.0.0.1:6379', databaseUrl: database.db.url, nodeId, nodeUrl: `https://${nodeId}.test` },
    ...extra,
  });
}

const startAudit = (config: ReturnType<typeof clusterConfig>) => createAuditSystem({ config, logger: createLogger({ level: 'silent' }), metrics: new Metrics() });
const actions = async (node?: string) => (await chainRecords(database.pool)).filter((r) => !node || r.node === node).map((r) => r.action);

describe('audit in cluster mode', () => {
  it('records config.changed against the fingerprint this node id last recorded in PostgreSQL, whatever its data directory', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'toneguard-pg-audit-'));
    const first = startAudit(clusterConfig('n1', {}, dataDir));
    expect(first.trail).toBeInstanceOf(PgAuditTrail);
    await first.close();
    expect(await actions('n1')).toEqual(['config.changed']);

    // The data directory emptied (a node redeployed on a fresh disk), the same configuration: nothing changed.
    rmSync(dataDir, { recursive: true });
    const again = startAudit(clusterConfig('n1', {}, dataDir));
    await again.trail.record(event(1));
    await again.close();
    expect(await actions('n1')).toEqual(['config.changed', 'vault.tokenize']);

    const changed = startAudit(clusterConfig('n1', { capture: { maxAttempts: 4 } }, dataDir));
    await changed.close();
    const records = (await chainRecords(database.pool)).filter((r) => r.action === 'config.changed');
    expect(records).toHaveLength(2);
    expect(records[1].details).toEqual({ previous: records[0].details!.current, current: expect.stringMatching(/^[0-9a-f]{64}$/) });

    // Another node has a fingerprint of its own.
    const other = startAudit(clusterConfig('n2'));
    await other.close();
    expect(await actions('n2')).toEqual(['config.changed']);
    expect((await verifyPgAuditTrail(database.pool, KEY)).ok).toBe(true);
  });

  it('an operator command appends straight to the PostgreSQL chain (no inbox)', async () => {
    const operator = openOperatorAudit(clusterConfig('n1'));
    expect(operator.via).toBe('trail');
    await operator.record({ action: 'keys.rotate', actor: { type: 'operator', id: 'olive' }, outcome: 'success', details: { toVersion: 2 } });
    await operator.close();
    expect((await chainRecords(database.pool)).at(-1)).toMatchObject({ action: 'keys.rotate', node: 'n1', actor: { id: 'olive' } });
  });

  it('retention deletes records older than audit.retentionDays and leaves an anchor the verifier continues from', async () => {
    const now = Date.now();
    const before = (await chainRecords(database.pool)).length;
    const old = new PgAuditTrail({ pool: database.pool, key: KEY, nodeId: 'n1', now: () => now - 400 * DAY });
    await Promise.all([old.record(event(1)), old.record(event(2))]);
    await old.close();
    const fresh = new PgAuditTrail({ pool: database.pool, key: KEY, nodeId: 'n1' });
    await fresh.record(event(3));

    expect(await applyPgRetention({ pool: database.pool, key: KEY, retentionDays: 365, now, batchSize: 2 })).toBe(0);
    // The old records follow younger ones in the chain, so nothing goes until those are old too;
    // a year on, every record before the newest goes, in batches.
    const later = now + 365 * DAY;
    const deleted = await applyPgRetention({ pool: database.pool, key: KEY, retentionDays: 365, now: later, batchSize: 2 });
    expect(deleted).toBe(before + 2);
    await fresh.record(event(4));
    const result = await verifyPgAuditTrail(database.pool, KEY);
    expect(result).toMatchObject({ ok: true, records: 2, firstSeq: before + 2 });
    await fresh.close();

    await database.pool.query("UPDATE audit_chain_anchor SET seq = seq - 1");
    expect(await verifyPgAuditTrail(database.pool, KEY)).toMatchObject({ ok: false, file: 'audit_chain_anchor', reason: 'anchor MAC mismatch' });
    await database.pool.query("UPDATE audit_chain_anchor SET seq = seq + 1");
  });

  it('verifying a database that was never migrated says so (schema_unmigrated)', async () => {
    const empty = await createTestDatabase('audit_empty');
    const pool = createPool({ url: empty.url, size: 1 });
    await expect(verifyPgAuditTrail(pool, KEY)).rejects.toMatchObject({ code: 'schema_unmigrated' });
    await pool.end();
    await empty.drop();
  });

  describe('toneguard audit verify, with a database configured, checks the PostgreSQL chain', () => {
    const env = () => ({
      TONEGUARD_DATA_DIR: mkdtempSync(join(tmpdir(), 'toneguard-pg-cli-')),
      TONEGUARD_AUDIT_HMAC_KEY: KEY.toString('utf8'),
      TONEGUARD_DATABASE_URL: database.db.url,
      TONEGUARD_REDIS_URL: 'redis://127.0.0.1:6379',
    });
    const lastSeq = async () => Number((await database.pool.query<{ seq: string }>('SELECT max(seq) AS seq FROM audit_records')).rows[0].seq);

    it('exit 0 when intact', async () => {
      const intact = await runCliAsync(['audit', 'verify'], { env: env() });
      expect(intact.status, intact.stderr).toBe(0);
      expect(lastJsonLine(intact.stdout)).toMatchObject({ ok: true, records: 2, lastSeq: await lastSeq() });
    });

    it('exit 1 naming the seq of an edited record', async () => {
      const last = await lastSeq();
      await database.pool.query(`UPDATE audit_records SET record = replace(record::text, '"outcome":"success"', '"outcome":"failure"')::json WHERE seq = $1`, [last]);
      const broken = await runCliAsync(['audit', 'verify'], { env: env() });
      expect(broken.status).toBe(1);
      expect(broken.stderr).toContain(`audit_records seq ${last}: MAC mismatch`);
      expect(lastJsonLine(broken.stdout)).toMatchObject({ ok: false, file: 'audit_records', seq: last });
    });
  });
});
