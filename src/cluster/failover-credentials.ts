import type { Redis } from 'ioredis';
import type { RedeemedCredentials } from '../media/stream-credentials.js';

/**
 * Spent stream credentials, cluster-wide: a credential one node issued may be presented to any
 * node (a stream reconnecting after a failover), and must still be admitted only once. Each
 * nonce is a key set only if absent, living until its credential would have expired anyway.
 */
export class RedisRedeemedCredentials implements RedeemedCredentials {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async claim(nonce: string, expiresAt: number, now: number): Promise<boolean> {
    const ttlMs = Math.max(1, expiresAt - now);
    return (await this.redis.set(`${this.prefix}stream-credential:${nonce}`, '1', 'PX', ttlMs, 'NX')) === 'OK';
  }
}
