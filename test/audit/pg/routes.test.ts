// slow: real services (PostgreSQL; the whole service started in cluster mode)
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgAuditTrail } from '../../../src/audit/pg/trail.js';
import { startAgentApi, type AgentApi } from '../../agent/fixtures.js';
import { testRedisPrefix } from '../../helpers/redis.js';
import { waitFor } from '../../helpers/twilio.js';
import { auditDatabase, chainRecords, KEY } from './fixtures.js';

let database: Awaited<ReturnType<typeof auditDatabase>>;
let api: AgentApi;
beforeAll(async () => {
  database = await auditDatabase('audit_routes');
  const keyFile = join(mkdtempSync(join(tmpdir(), 'toneguard-signing-')), 'signing.jwk');
  writeFileSync(keyFile, JSON.stringify(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' })), { mode: 0o600 });
  api = await startAgentApi({
    audit: { hmacKey: KEY.toString('utf8') },
    vault: { keks: [`1:${randomBytes(32).toString('base64')}`], fingerprintKey: randomBytes(32).toString('base64') },
    cluster: { redisUrl: 'redis://127.0.0.1:6379', databaseUrl: database.db.url, nodeId: 'n1', nodeUrl: 'https://n1.test', signingKeyFile: keyFile, redisPrefix: testRedisPrefix('audit').prefix },
  });
});
afterAll(async () => {
  await api?.close();
  await database.close();
});

describe('GET /v1/audit and /v1/audit/verify in cluster mode', () => {
  it('page and verify the PostgreSQL chain the nodes share', async () => {
    // Another node's records are in the same chain.
    const other = new PgAuditTrail({ pool: database.pool, key: KEY, nodeId: 'n2' });
    await other.record({ action: 'capture.started', actor: { type: 'agent', id: 'bob' }, outcome: 'success', resource: { type: 'capture', id: 'cap_n2' } });
    await other.close();
    await waitFor(async () => (await chainRecords(database.pool)).some((r) => r.action === 'service.started'));

    const auditor = await api.bearer('aud', 'auditor');
    const get = (query: string) => request(api.server.url).get(`/v1/audit${query}`).set('authorization', auditor);
    const before = await chainRecords(database.pool);
    const tail = (await get('?limit=2').expect(200)).body;
    // Records may land while the request runs (the service's start-up `config.changed` follows `service.started` asynchronously):
    // the tail is the two newest at that moment, so it ends at or after the newest seen before it.
    const all = await chainRecords(database.pool);
    const end = all.findIndex((r) => String(r.seq) === tail.next);
    expect(end).toBeGreaterThanOrEqual(before.length - 1);
    expect(tail.records).toEqual(all.slice(end - 1, end + 1));
    const page = (await get(`?after=${all[0].seq}&limit=50`).expect(200)).body.records;
    expect(page.slice(0, all.length - 1)).toEqual(all.slice(1));
    expect(new Set(all.map((r) => r.node))).toEqual(new Set(['n1', 'n2']));

    await waitFor(async () => (await chainRecords(database.pool)).some((r) => r.action === 'audit.exported'));
    const verify = (await request(api.server.url).get('/v1/audit/verify').set('authorization', auditor).expect(200)).body;
    expect(verify).toMatchObject({ ok: true, firstSeq: 0 });
    expect(verify.records).toBeGreaterThan(all.length);
    // The service writes no audit files of its own in cluster mode.
    expect(api.server.auditRecords()).toEqual([]);

    await database.pool.query(`UPDATE audit_records SET record = replace(record::text, 'cap_n2', 'cap_n3')::json WHERE record->'resource'->>'id' = 'cap_n2'`);
    const seq = all.find((r) => r.resource?.id === 'cap_n2')!.seq;
    expect((await request(api.server.url).get('/v1/audit/verify').set('authorization', auditor).expect(200)).body).toMatchObject({ ok: false, seq });
  });
});
