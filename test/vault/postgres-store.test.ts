// slow: real services (PostgreSQL, Redis)
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryAuditSink } from '../../src/audit/types.js';
import { parseConfig } from '../../src/config/index.js';
import { migrate } from '../../src/db/migrate.js';
import { createPool, type DatabasePool } from '../../src/db/pool.js';
import { createVault, Keyring, MemoryTokenStore, SqliteTokenStore } from '../../src/vault/index.js';
import { PostgresTokenStore } from '../../src/vault/postgres-store.js';
import { RedisOneTimeSecrets } from '../../src/vault/redis-secrets.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { REDIS_URL, testRedisPrefix } from '../helpers/redis.js';
import { cardRequest, kek, PROCESSOR, tempDir, VISA } from './helpers.js';
import { sampleRecord, tokenStoreContract } from './store-contract.js';

let db: TestDatabase;
const pools: DatabasePool[] = [];
const newPool = (size = 4) => {
  const pool = createPool({ url: db.url, size });
  pools.push(pool);
  return pool;
};

beforeAll(async () => {
  db = await createTestDatabase('vaultpg');
  await migrate(newPool(1));
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await db.drop();
});

tokenStoreContract('memory', async () => {
  const store = new MemoryTokenStore();
  return { store, dispose: () => store.close() };
});

tokenStoreContract('SQLite', async () => {
  const store = new SqliteTokenStore(join(tempDir(), 'vault.db'));
  return { store, dispose: () => store.close() };
});

tokenStoreContract('PostgreSQL', async () => {
  const pool = newPool();
  await pool.query('TRUNCATE vault_records, vault_subject_keys');
  const store = new PostgresTokenStore(pool);
  return { store, dispose: () => store.close() };
});

describe('PostgresTokenStore across nodes (two pools on one database)', () => {
  it('lets one of two racing inserts of the same alias or fingerprint win; the other gets token_conflict', async () => {
    const [a, b] = [new PostgresTokenStore(newPool()), new PostgresTokenStore(newPool())];
    for (const field of ['alias', 'fingerprint'] as const) {
      const value = `${field}-${randomBytes(4).toString('hex')}`;
      const outcomes = await Promise.allSettled([
        a.insert(sampleRecord(`tok_${field}_a`, { [field]: value })),
        b.insert(sampleRecord(`tok_${field}_b`, { [field]: value })),
      ]);
      expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect(outcomes.find((o) => o.status === 'rejected')).toMatchObject({ reason: { code: 'token_conflict' } });
    }
  });

  it('gives an expired record fingerprint up to a new record of the same card', async () => {
    const store = new PostgresTokenStore(newPool());
    const t = Date.UTC(2026, 0, 15);
    await store.insert(sampleRecord('tok_old', { fingerprint: 'fp-expired', expiresAt: t }));
    await store.insert(sampleRecord('tok_new', { fingerprint: 'fp-expired', createdAt: t + 1, expiresAt: t + 60_000 }));
    expect((await store.findByFingerprint('fp-expired', t + 1))?.token).toBe('tok_new');
    expect(await store.get('tok_old')).toMatchObject({ fingerprint: null });
  });

  it('converges two vaults tokenizing the same card at once on one token', async () => {
    const keyring = new Keyring([kek(1)], { fingerprintKey: randomBytes(32) });
    const config = parseConfig({ dataDir: tempDir(), vault: { convergent: true } });
    const clock = () => Date.UTC(2026, 0, 15);
    const vaults = [newPool(), newPool()].map((pool) => createVault({ config, keyring, store: new PostgresTokenStore(pool), audit: new MemoryAuditSink(), clock }));
    const results = await Promise.all(vaults.flatMap((vault) => [vault.tokenize(cardRequest({ card_number: VISA, expiry: '1230' })), vault.tokenize(cardRequest({ card_number: VISA, expiry: '1230' }))]));
    expect(new Set(results.map((r) => r.token)).size).toBe(1);
    const record = await vaults[1]!.detokenize(results[0]!.token, { actor: PROCESSOR, processor: PROCESSOR.id });
    expect(record.fields.card_number).toBe(VISA);
  });
});

describe('one-time CVVs in Redis, shared by two vaults', () => {
  const prefix = testRedisPrefix('cvv');
  const clients: Redis[] = [];
  afterAll(async () => {
    await prefix.clear();
    for (const client of clients) client.disconnect();
  });

  it('hands the CVV out once, from whichever node asks first, and never holds it in the clear', async () => {
    const keyring = new Keyring([kek(1)]);
    const config = parseConfig({ dataDir: tempDir() });
    const [first, second] = [0, 1].map(() => {
      const redis = new Redis(REDIS_URL);
      clients.push(redis);
      const secrets = new RedisOneTimeSecrets(redis, keyring, prefix.prefix);
      return createVault({ config, keyring, store: new PostgresTokenStore(newPool()), audit: new MemoryAuditSink(), secrets });
    });
    const { token } = await first!.tokenize(cardRequest({ card_number: VISA, expiry: '1230', cvv: '123' }));

    const inspector = clients[0]!;
    const keys = await inspector.keys(`${prefix.prefix}*`);
    expect(keys).toEqual([`${prefix.prefix}vault:secret:${token}`]);
    expect(await inspector.get(keys[0]!)).not.toContain('123');
    const ttl = await inspector.pttl(keys[0]!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(config.vault.cvvTtlMs);

    const [a, b] = await Promise.all([
      second!.detokenize(token, { actor: PROCESSOR, processor: PROCESSOR.id, includeCvv: true }),
      first!.detokenize(token, { actor: PROCESSOR, processor: PROCESSOR.id, includeCvv: true }),
    ]);
    expect([a.cvv, b.cvv].filter((cvv) => cvv !== undefined)).toEqual(['123']);
    expect(await inspector.exists(keys[0]!)).toBe(0);
  });

  it('expires a CVV at its TTL and deletes it with its token', async () => {
    const keyring = new Keyring([kek(1)]);
    const redis = new Redis(REDIS_URL);
    clients.push(redis);
    const secrets = new RedisOneTimeSecrets(redis, keyring, prefix.prefix);
    await secrets.put('tok_short', Buffer.from('4242'), 50);
    await expect.poll(() => redis.exists(`${prefix.prefix}vault:secret:tok_short`)).toBe(0);
    expect(await secrets.take('tok_short')).toBeUndefined();

    const vault = createVault({ config: parseConfig({ dataDir: tempDir() }), keyring, store: new PostgresTokenStore(newPool()), audit: new MemoryAuditSink(), secrets });
    const { token } = await vault.tokenize(cardRequest({ card_number: VISA, expiry: '1230', cvv: '999' }));
    expect(await vault.delete(token, PROCESSOR)).toBe(true);
    expect(await redis.exists(`${prefix.prefix}vault:secret:${token}`)).toBe(0);
  });
});
