import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** The machine's Redis; `TONEGUARD_TEST_REDIS` overrides it. */
export const REDIS_URL = process.env.TONEGUARD_TEST_REDIS ?? 'redis://127.0.0.1:6379';

/** A key and channel prefix of its own for one test, so that test files share the one Redis without seeing each other; `clear` deletes its keys. */
export function testRedisPrefix(label = 'tg'): { prefix: string; clear(): Promise<void> } {
  const prefix = `test:${label}:${randomBytes(6).toString('hex')}:`;
  return {
    prefix,
    async clear() {
      const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await redis.connect();
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
      redis.disconnect();
    },
  };
}
