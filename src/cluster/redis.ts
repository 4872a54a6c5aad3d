import { Redis } from 'ioredis';
import type { Logger } from '../audit/logger.js';
import { ToneguardError } from '../errors.js';

export interface RedisConnectionOptions {
  url: string;
  /** `config.cluster.redisPrefix`: starts every key and channel. */
  prefix: string;
  /** A command waits at most this long for its answer (a Redis that stopped answering). */
  commandTimeoutMs: number;
  logger: Logger;
}

/**
 * The two connections a node holds to Redis: one for commands, one in subscriber mode (a
 * connection that subscribed can run nothing else). Commands fail at once while Redis is down
 * (no offline queue) so that nothing waits on it; ioredis reconnects by itself and the owners of
 * shared state resync on `onReady`.
 */
export interface RedisConnections {
  readonly command: Redis;
  readonly subscriber: Redis;
  /** A key or channel name under the cluster's prefix. */
  name(suffix: string): string;
  /** Both connections up. */
  healthy(): boolean;
  /** Fires each time either connection (re)connects, after the first time both are ready. */
  onReady(listener: () => void): () => void;
  close(): Promise<void>;
}

const MAX_RECONNECT_DELAY_MS = 2_000;

/** Backs off 100 ms, 200 ms, ... up to 2 s, and never gives up: a node waits out a Redis restart. */
export function reconnectDelay(attempt: number): number {
  return Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS);
}

function connect(options: RedisConnectionOptions, role: string): Redis {
  const redis = new Redis(options.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: Math.max(options.commandTimeoutMs, 1_000),
    retryStrategy: reconnectDelay,
    connectionName: `toneguard-${role}`,
  });
  let down = false;
  redis.on('error', (err: Error) => {
    if (down) return;
    down = true;
    options.logger.warn({ role, err: { message: err.message } }, 'redis connection lost; reconnecting');
  });
  redis.on('ready', () => {
    if (down) options.logger.info({ role }, 'redis connection restored');
    down = false;
  });
  return redis;
}

/** Connects both, waiting for the first connection (a node does not start without Redis). */
export async function openRedis(options: RedisConnectionOptions): Promise<RedisConnections> {
  const command = connect(options, 'command');
  const subscriber = connect(options, 'subscriber');
  try {
    await Promise.all([command.connect(), subscriber.connect()]);
  } catch (err) {
    command.disconnect();
    subscriber.disconnect();
    throw new ToneguardError('cluster_unavailable', `cannot reach Redis at the configured TONEGUARD_REDIS_URL: ${(err as Error).message}`, 503, { cause: err });
  }
  const readyListeners = new Set<() => void>();
  const fire = () => {
    for (const listener of readyListeners) listener();
  };
  command.on('ready', fire);
  subscriber.on('ready', fire);
  return {
    command,
    subscriber,
    name: (suffix) => `${options.prefix}${suffix}`,
    healthy: () => command.status === 'ready' && subscriber.status === 'ready',
    onReady(listener) {
      readyListeners.add(listener);
      return () => readyListeners.delete(listener);
    },
    async close() {
      readyListeners.clear();
      await Promise.all([quit(command), quit(subscriber)]);
    },
  };
}

async function quit(redis: Redis): Promise<void> {
  if (redis.status === 'ready') {
    try {
      await redis.quit();
      return;
    } catch {
      // Falls through to a hard disconnect.
    }
  }
  redis.disconnect();
}

/** The error every Redis-backed operation raises while Redis cannot be reached: it names no key or value. */
export function clusterUnavailable(err: unknown): ToneguardError {
  if (err instanceof ToneguardError) return err;
  return new ToneguardError('cluster_unavailable', 'the cluster store (Redis) is unreachable', 503, { cause: err });
}
