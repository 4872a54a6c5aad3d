import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { AuditSink } from '../audit/types.js';
import { isClusterMode } from '../config/cluster.js';
import type { Config } from '../config/index.js';
import { createPool, type DatabasePool } from '../db/pool.js';
import { loadKeyring, type LoadedKeyring } from './keyring-source.js';
import { PostgresTokenStore } from './postgres-store.js';
import { createVaultRedis } from './redis-client.js';
import { RedisOneTimeSecrets } from './redis-secrets.js';
import type { RewrapResult } from './rewrap.js';
import { RotationFollower } from './rotation-follower.js';
import { SqliteTokenStore } from './sqlite-store.js';
import { MemoryTokenStore, type TokenStore } from './store.js';
import { createVault, type ManagedVault } from './vault.js';

export interface OpenedVault {
  vault: ManagedVault;
  keyring: LoadedKeyring['keyring'];
  store: TokenStore;
  /** Set when development keys are in use: log it loudly. */
  warning: string | null;
  /** The background re-wrap of keys still under older KEK versions, started on open. */
  rewrap: Promise<RewrapResult>;
  /** Follows KEK rotations made while running (file and HSM keys) and re-wraps after each. */
  rotations: RotationFollower;
}

/** Shared connections the composition root already holds (cluster mode); what is not given is made from configuration and closed with the vault. */
export interface VaultConnections {
  pool?: DatabasePool;
  redis?: Redis;
}

export function vaultPath(config: Config): string {
  return config.vault.path ?? join(config.dataDir, 'vault.db');
}

/** The store `config.vault.store` names; in cluster mode, PostgreSQL (on `pool`, or a pool of its own). */
export function openStore(config: Config, pool?: DatabasePool): TokenStore {
  if (isClusterMode(config)) {
    return pool ? new PostgresTokenStore(pool) : new PostgresTokenStore(createPool({ url: config.cluster.databaseUrl!, size: config.cluster.databasePoolSize }), true);
  }
  return config.vault.store === 'memory' ? new MemoryTokenStore() : new SqliteTokenStore(vaultPath(config));
}

/**
 * For the composition root: keyring, store and vault from configuration. Keys left under an
 * older KEK version (after a rotation, here or by `keys rotate` while running) are re-wrapped
 * in the background; old versions keep decrypting meanwhile. In cluster mode the records live in
 * PostgreSQL and the CVVs in Redis, so that any node can serve a detokenize.
 */
export function openVault(config: Config, audit: AuditSink, connections: VaultConnections = {}): OpenedVault {
  const loaded = loadKeyring(config, { dataDir: config.dataDir, profile: config.profile });
  const store = openStore(config, connections.pool);
  const ownRedis = isClusterMode(config) && !connections.redis ? createVaultRedis(config) : undefined;
  const redis = connections.redis ?? ownRedis;
  const secrets = redis && new RedisOneTimeSecrets(redis, loaded.keyring, config.cluster.redisPrefix);
  const vault = createVault({ config, keyring: loaded.keyring, store, audit, ...(secrets ? { secrets } : {}) });
  const rotations = new RotationFollower({ keyring: loaded.keyring, store, audit, pollMs: config.vault.kek.pollMs });
  const close = async (): Promise<void> => {
    await rotations.close();
    await vault.close();
    ownRedis?.disconnect();
    loaded.close();
  };
  return { vault: { ...vault, close }, keyring: loaded.keyring, store, warning: loaded.warning, rewrap: rotations.initial, rotations };
}
