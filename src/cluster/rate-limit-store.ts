import { MemoryStore, type IncrementResponse, type Options, type Store } from 'express-rate-limit';
import type { Logger } from '../audit/logger.js';
import type { RedisConnections } from './redis.js';

/** Counts one hit in a fixed window that starts at the key's first hit; answers the count and the ms left. */
const INCREMENT_SCRIPT = `
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local left = redis.call('PTTL', KEYS[1])
if left < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) left = tonumber(ARGV[1]) end
return {hits, left}
`;

/**
 * A rate-limit counter every node shares (`ratelimit:{name}:{key}` in Redis), so that a limit holds
 * across the cluster rather than per node. While Redis is unreachable it counts in this node's
 * memory instead: the limit is kept per node (at most nodes × the limit cluster-wide) rather than
 * lifted or locking everyone out, since a cache outage must neither open the door to a flood nor
 * stop agents taking payments.
 */
export class SharedRateLimitStore implements Store {
  readonly localKeys = false;
  private windowMs = 60_000;
  private readonly fallback = new MemoryStore();
  private fallingBack = false;

  constructor(
    private readonly redis: RedisConnections,
    private readonly name: string,
    private readonly logger: Logger,
  ) {}

  init(options: Options): void {
    this.windowMs = options.windowMs;
    this.fallback.init(options);
  }

  async increment(key: string): Promise<IncrementResponse> {
    try {
      const [totalHits, left] = (await this.redis.command.eval(INCREMENT_SCRIPT, 1, this.keyOf(key), this.windowMs)) as [number, number];
      if (this.fallingBack) this.logger.info({ limit: this.name }, 'rate limit shared again');
      this.fallingBack = false;
      return { totalHits, resetTime: new Date(Date.now() + left) };
    } catch (err) {
      if (!this.fallingBack) this.logger.warn({ limit: this.name, err: { message: (err as Error).message } }, 'rate limit counted on this node only: Redis unreachable');
      this.fallingBack = true;
      return this.fallback.increment(key);
    }
  }

  async decrement(key: string): Promise<void> {
    if (this.fallingBack) return this.fallback.decrement(key);
    await this.redis.command.decr(this.keyOf(key)).catch(() => undefined);
  }

  async resetKey(key: string): Promise<void> {
    this.fallback.resetKey(key);
    await this.redis.command.del(this.keyOf(key)).catch(() => undefined);
  }

  shutdown(): void {
    this.fallback.shutdown();
  }

  private keyOf(key: string): string {
    return this.redis.name(`ratelimit:${this.name}:${key}`);
  }
}
