import type { Redis } from 'ioredis';
import type { Logger } from '../audit/logger.js';
import type { CaptureCheckpointPort } from '../capture/checkpoint.js';
import type { CaptureService } from '../capture/types.js';
import type { Config } from '../config/index.js';
import { ToneguardError } from '../errors.js';
import { deriveStreamCredentialKey, StreamCredentials } from '../media/stream-credentials.js';
import type { CallRegistry } from '../state/calls.js';
import type { MediaPinning } from '../telephony/call-flow.js';
import type { KeyringPort } from '../vault/types.js';
import { createCheckpointPort, RedisCaptureCheckpoints, type CaptureCheckpoints } from './checkpoint-store.js';
import { RedisRedeemedCredentials } from './failover-credentials.js';
import { createClusterPinning } from './failover.js';
import { startOrphanSweep, type OrphanSweep } from './orphan-sweep.js';
import type { CallPlacement, NodeDirectory } from './ports.js';

export interface FailoverDeps {
  config: Pick<Config, 'cluster' | 'audit' | 'media' | 'capture'>;
  redis: Redis;
  directory: NodeDirectory;
  placement: CallPlacement;
  keyring: KeyringPort;
  calls: CallRegistry;
  logger: Logger;
}

/** What the telephony side takes of failover: where streams go, and credentials every node admits once. */
export interface TelephonyFailover {
  pinning: MediaPinning;
  credentials: StreamCredentials;
}

export interface Failover extends TelephonyFailover {
  store: CaptureCheckpoints;
  /** For the capture service: checkpoints sealed under the keyring, in Redis. */
  checkpoints: CaptureCheckpointPort;
  /** Starts failing orphaned captures (`node_lost`); once the capture service exists. */
  startSweep(captures: Pick<CaptureService, 'get' | 'failLost'>): OrphanSweep;
}

/**
 * Cluster mode's failover pieces, on the cluster's Redis and ports: media pinning, shared stream
 * credentials (key derived from the audit key, spent nonces in Redis), capture checkpoints and
 * the orphan sweep. Every Redis key starts with `cluster.redisPrefix`.
 */
export function createFailover(deps: FailoverDeps): Failover {
  const { config, redis } = deps;
  const { cluster } = config;
  if (!config.audit.hmacKey) throw new ToneguardError('config_refused', 'audit.hmacKey (TONEGUARD_AUDIT_HMAC_KEY) is required in cluster mode', 500);
  const credentials = new StreamCredentials(
    config.media.streamCredentialTtlMs,
    deriveStreamCredentialKey(config.audit.hmacKey),
    Date.now,
    new RedisRedeemedCredentials(redis, cluster.redisPrefix),
  );
  const pinning = createClusterPinning({ directory: deps.directory, placement: deps.placement, calls: deps.calls, probeTimeoutMs: cluster.rpcTimeoutMs });
  const store = new RedisCaptureCheckpoints(redis, cluster.redisPrefix);
  // A capture may run for its longest total time (agents may ask up to an hour), then wait one resume window.
  const ttlMs = Math.max(config.capture.totalTimeoutMs, 3_600_000) + cluster.resumeWindowMs;
  const checkpoints = createCheckpointPort({ store, keyring: deps.keyring, nodeId: deps.directory.self.id, ttlMs, logger: deps.logger });
  return {
    pinning,
    credentials,
    store,
    checkpoints,
    startSweep: (captures) =>
      startOrphanSweep({
        store,
        directory: deps.directory,
        calls: deps.calls,
        captures,
        redis,
        prefix: cluster.redisPrefix,
        resumeWindowMs: cluster.resumeWindowMs,
        intervalMs: Math.max(250, Math.min(cluster.heartbeatMs, cluster.resumeWindowMs / 4)),
        logger: deps.logger,
      }),
  };
}
