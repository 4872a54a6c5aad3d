import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate } from '../../src/db/migrate.js';
import { createPool, type DatabasePool } from '../../src/db/pool.js';
import { formatKek } from '../../src/vault/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { REDIS_URL } from '../helpers/redis.js';

/** One migrated test database and the pools opened on it, each pool standing for one node. */
export interface SharedDatabase {
  db: TestDatabase;
  /** A pool of its own, as another node would have; ended by `close`. */
  node(size?: number): DatabasePool;
  close(): Promise<void>;
}

export async function sharedDatabase(label: string, options: { migrated?: boolean } = {}): Promise<SharedDatabase> {
  const db = await createTestDatabase(label);
  const pools: DatabasePool[] = [];
  const node = (size = 4) => {
    const pool = createPool({ url: db.url, size });
    pools.push(pool);
    return pool;
  };
  if (options.migrated ?? true) await migrate(node(1));
  return {
    db,
    node,
    async close() {
      await Promise.all(pools.map((p) => p.end()));
      await db.drop();
    },
  };
}

/**
 * What every node of one test cluster shares, as configuration overrides: the database, Redis
 * (under the test's prefix), KEKs, fingerprint and audit keys, and a signing key file. `nodeId`
 * names the node.
 */
export function clusterOverrides(databaseUrl: string, redisPrefix: string) {
  const dir = mkdtempSync(join(tmpdir(), 'toneguard-cluster-'));
  const signingKeyFile = join(dir, 'signing.jwk');
  writeFileSync(signingKeyFile, JSON.stringify(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' })), { mode: 0o600 });
  const shared = {
    vault: { keks: [formatKek(1, randomBytes(32))], fingerprintKey: randomBytes(32).toString('base64') },
    audit: { hmacKey: randomBytes(32).toString('base64') },
  };
  return (nodeId: string) => ({
    ...shared,
    cluster: { redisUrl: REDIS_URL, databaseUrl, nodeId, nodeUrl: `https://${nodeId}.toneguard.test`, signingKeyFile, redisPrefix },
  });
}
