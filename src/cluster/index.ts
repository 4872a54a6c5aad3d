import type { Logger } from '../audit/logger.js';
import type { Metrics } from '../audit/metrics.js';
import type { Config } from '../config/index.js';
import { ToneguardError } from '../errors.js';
import { MemoryCallRegistry, type CallRegistry } from '../state/calls.js';
import { RedisCallRegistry } from '../state/redis-calls.js';
import { MemoryCallPlacement, MemoryNodeBus, MemoryNodeDirectory } from './memory.js';
import type { CallPlacement, NodeBus, NodeDirectory } from './ports.js';
import { openRedis, type RedisConnections } from './redis.js';
import { RedisNodeBus } from './redis-bus.js';
import { RedisNodeDirectory } from './redis-nodes.js';
import { RedisCallPlacement } from './redis-placement.js';

export type { CallPlacement, NodeBus, NodeDirectory, NodeInfo } from './ports.js';

/** The state a node shares with the others (cluster mode) or keeps to itself (single node). */
export interface ClusterState {
  nodes: NodeDirectory;
  bus: NodeBus;
  placement: CallPlacement;
  calls: CallRegistry;
  /** Redis reachable (always true on a single node): `/readyz` and the inbound webhook follow it. */
  healthy(): boolean;
  /** Cluster mode only: the Redis connections, for the other shared stores (rate limits, capture views). */
  redis?: RedisConnections;
  close(): Promise<void>;
}

/** The single-node default: everything in memory, the node alone in its cluster. */
export function createLocalState(selfId = 'local', selfUrl = 'http://localhost'): ClusterState {
  const bus = new MemoryNodeBus(selfId);
  const nodes = new MemoryNodeDirectory({ id: selfId, url: selfUrl });
  return { nodes, bus, placement: new MemoryCallPlacement(), calls: new MemoryCallRegistry(), healthy: () => true, close: () => bus.close() };
}

/** Live media calls pinned to this node: its load, reported with each heartbeat. */
function pinnedCalls(calls: CallRegistry, selfId: string): () => number {
  return () => calls.list().filter((c) => c.node === selfId && c.state !== 'ended').length;
}

/**
 * Cluster mode: connects to Redis (refusing to start without it), loads the shared call registry
 * and registers this node. `config.cluster` must name the Redis URL, node id and node URL.
 */
export async function createClusterState(config: Pick<Config, 'cluster'>, logger: Logger, metrics?: Metrics): Promise<ClusterState> {
  const { cluster } = config;
  if (!cluster.redisUrl || !cluster.nodeId || !cluster.nodeUrl) throw new ToneguardError('config_refused', 'cluster mode needs cluster.redisUrl, nodeId and nodeUrl', 500);
  const self = { id: cluster.nodeId, url: cluster.nodeUrl };
  const redis = await openRedis({ url: cluster.redisUrl, prefix: cluster.redisPrefix, commandTimeoutMs: cluster.rpcTimeoutMs, logger });
  try {
    const bus = await RedisNodeBus.open(redis, self.id, cluster.rpcTimeoutMs, logger);
    const calls = await RedisCallRegistry.open({ redis, selfId: self.id, logger });
    const nodes = await RedisNodeDirectory.open(self, redis, bus, cluster, logger, { load: pinnedCalls(calls, self.id) });
    const showHealth = () => metrics?.clusterRedisUp.set(redis.healthy() ? 1 : 0);
    showHealth();
    const healthTimer = setInterval(showHealth, cluster.heartbeatMs);
    healthTimer.unref();
    return {
      nodes,
      bus,
      placement: new RedisCallPlacement(redis),
      calls,
      redis,
      healthy: () => redis.healthy(),
      async close() {
        clearInterval(healthTimer);
        await nodes.close();
        await bus.close();
        calls.close();
        await redis.close();
      },
    };
  } catch (err) {
    await redis.close();
    throw err;
  }
}
