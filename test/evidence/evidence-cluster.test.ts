// slow: real services (PostgreSQL)
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgAuditTrail } from '../../src/audit/pg/trail.js';
import { SYSTEM_ACTOR } from '../../src/audit/types.js';
import { loadConfig } from '../../src/config/index.js';
import { collectEvidence } from '../../src/evidence/collect.js';
import { renderEvidenceHtml } from '../../src/evidence/html.js';
import { auditDatabase } from '../audit/pg/fixtures.js';

describe('evidence of a cluster (real PostgreSQL)', () => {
  let database: Awaited<ReturnType<typeof auditDatabase>>;
  const hmacKey = randomBytes(32).toString('base64');
  /** The configured key's text is the HMAC key (as `resolveAuditKey` reads it). */
  const key = Buffer.from(hmacKey, 'utf8');
  beforeAll(async () => {
    database = await auditDatabase('evidence');
  });
  afterAll(async () => database.close());

  it('verifies the chain the nodes share in PostgreSQL, and names the record that breaks it', async () => {
    const trails = ['node-a', 'node-b'].map((nodeId) => new PgAuditTrail({ pool: database.pool, key, nodeId }));
    await Promise.all(trails.flatMap((trail, n) => Array.from({ length: 5 }, (_, i) => trail.record({ action: 'vault.tokenize', actor: SYSTEM_ACTOR, outcome: 'success', details: { i, n } }))));
    for (const trail of trails) await trail.close();
    const config = loadConfig({
      env: {},
      overrides: { cluster: { redisUrl: 'redis://127.0.0.1:6379', databaseUrl: database.db.url }, audit: { hmacKey } },
    });

    const intact = await collectEvidence(config, { recordingSample: 0 });
    expect(intact.audit).toMatchObject({ dir: 'PostgreSQL table audit_records', files: 0, result: { ok: true, records: 10 } });

    await database.pool.query(`UPDATE audit_records SET record = jsonb_set(record::jsonb, '{details,i}', '99')::json WHERE seq = 3`);
    const broken = await collectEvidence(config, { recordingSample: 0 });
    expect(broken.audit).toMatchObject({ result: { ok: false, seq: 3 } });
    expect(renderEvidenceHtml(broken)).toContain('seq 3');
  });
});
