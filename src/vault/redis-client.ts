import { Redis } from 'ioredis';
import type { Config } from '../config/index.js';
import { ToneguardError } from '../errors.js';

/**
 * A Redis connection for the vault's one-time secrets, when the composition root gives it none
 * (CLI tools, tests). A command waits through a short outage (ioredis reconnects by itself) and
 * then fails, rather than queueing without end; that failure is what callers see, so the
 * connection's own error events are not reported twice.
 */
export function createVaultRedis(config: Pick<Config, 'cluster'>): Redis {
  if (!config.cluster.redisUrl) throw new ToneguardError('config_refused', 'the vault needs cluster.redisUrl (TONEGUARD_REDIS_URL) for its one-time secrets', 500);
  const redis = new Redis(config.cluster.redisUrl, { maxRetriesPerRequest: 3 });
  redis.on('error', () => undefined);
  return redis;
}
