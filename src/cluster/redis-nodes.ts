import type { Logger } from '../audit/logger.js';
import type { NodeBus, NodeDirectory, NodeInfo } from './ports.js';
import type { RedisConnections } from './redis.js';

export interface NodeTimings {
  heartbeatMs: number;
  nodeTtlMs: number;
}

/** Counts this node's live media calls at each heartbeat; without it, the last `reportCalls` value is sent. */
export type LoadCounter = () => number;

export const PING_COMMAND = 'node.ping';

/**
 * The node registry in Redis: a key per node (`node:{id}`, JSON NodeInfo, expiring after
 * `nodeTtlMs`) renewed every `heartbeatMs`, and a set `nodes` that lists the ids (an id whose key
 * expired is pruned when the nodes are listed). The key is the truth; the set only finds them.
 */
export class RedisNodeDirectory implements NodeDirectory {
  private calls = 0;
  private accepting = true;
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private readonly setKey: string;

  private constructor(
    readonly self: Pick<NodeInfo, 'id' | 'url'>,
    private readonly redis: RedisConnections,
    private readonly bus: NodeBus,
    private readonly timings: NodeTimings,
    private readonly logger: Logger,
    private readonly now: () => number,
    private readonly load: LoadCounter | undefined,
  ) {
    this.setKey = redis.name('nodes');
    bus.handle(PING_COMMAND, async () => ({ id: self.id }));
    this.timer = setInterval(() => void this.heartbeat(), timings.heartbeatMs);
    this.timer.unref();
  }

  /** Registers this node before returning, so that it is listed as soon as it is open. */
  static async open(
    self: Pick<NodeInfo, 'id' | 'url'>,
    redis: RedisConnections,
    bus: NodeBus,
    timings: NodeTimings,
    logger: Logger,
    options: { now?: () => number; load?: LoadCounter } = {},
  ): Promise<RedisNodeDirectory> {
    const directory = new RedisNodeDirectory(self, redis, bus, timings, logger, options.now ?? Date.now, options.load);
    await directory.heartbeat();
    return directory;
  }

  async live(): Promise<NodeInfo[]> {
    const ids = await this.redis.command.smembers(this.setKey);
    if (ids.length === 0) return [];
    const values = await this.redis.command.mget(...ids.map((id) => this.nodeKey(id)));
    const gone = ids.filter((_, i) => values[i] === null);
    if (gone.length > 0) await this.redis.command.srem(this.setKey, ...gone);
    return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as NodeInfo);
  }

  /** The accepting node with the fewest calls; ties are broken at random, so that simultaneous picks spread. */
  async pick(): Promise<NodeInfo | undefined> {
    const candidates = (await this.live()).filter((n) => n.accepting);
    if (candidates.length === 0) return undefined;
    const fewest = Math.min(...candidates.map((n) => n.calls));
    const tied = candidates.filter((n) => n.calls === fewest);
    return tied[Math.floor(Math.random() * tied.length)];
  }

  async get(id: string): Promise<NodeInfo | undefined> {
    const value = await this.redis.command.get(this.nodeKey(id));
    return value === null ? undefined : (JSON.parse(value) as NodeInfo);
  }

  async probe(id: string, timeoutMs: number): Promise<boolean> {
    if (id === this.self.id) return true;
    try {
      await this.bus.request(id, PING_COMMAND, {}, timeoutMs);
      return true;
    } catch {
      return false;
    }
  }

  reportCalls(calls: number): void {
    this.calls = calls;
  }

  /** Takes effect at once (a heartbeat now), so that a node going out of service stops being picked. */
  setAccepting(accepting: boolean): void {
    if (this.accepting === accepting) return;
    this.accepting = accepting;
    void this.heartbeat();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.redis.command
      .multi()
      .del(this.nodeKey(this.self.id))
      .srem(this.setKey, this.self.id)
      .exec()
      .catch(() => undefined);
  }

  private nodeKey(id: string): string {
    return this.redis.name(`node:${id}`);
  }

  private async heartbeat(): Promise<void> {
    if (this.closed) return;
    if (this.load) this.calls = this.load();
    const info: NodeInfo = { ...this.self, calls: this.calls, accepting: this.accepting, seenAt: this.now() };
    try {
      await this.redis.command
        .multi()
        .set(this.nodeKey(this.self.id), JSON.stringify(info), 'PX', this.timings.nodeTtlMs)
        .sadd(this.setKey, this.self.id)
        .exec();
    } catch (err) {
      this.logger.debug({ err: { message: (err as Error).message } }, 'heartbeat not sent: Redis unreachable');
    }
  }
}
