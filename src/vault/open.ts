import { join } from 'node:path';
import type { AuditSink } from '../audit/types.js';
import type { Config } from '../config/index.js';
import { loadKeyring, type LoadedKeyring } from './keyring-source.js';
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

export function vaultPath(config: Config): string {
  return config.vault.path ?? join(config.dataDir, 'vault.db');
}

/** The store `config.vault.store` names. */
export function openStore(config: Config): TokenStore {
  return config.vault.store === 'memory' ? new MemoryTokenStore() : new SqliteTokenStore(vaultPath(config));
}

/**
 * For the composition root: keyring, store and vault from configuration. Keys left under an
 * older KEK version (after a rotation, here or by `keys rotate` while running) are re-wrapped
 * in the background; old versions keep decrypting meanwhile.
 */
export function openVault(config: Config, audit: AuditSink): OpenedVault {
  const loaded = loadKeyring(config, { dataDir: config.dataDir, profile: config.profile });
  const store = openStore(config);
  const vault = createVault({ config, keyring: loaded.keyring, store, audit });
  const rotations = new RotationFollower({ keyring: loaded.keyring, store, audit, pollMs: config.vault.kek.pollMs });
  const close = async (): Promise<void> => {
    await rotations.close();
    await vault.close();
    loaded.close();
  };
  return { vault: { ...vault, close }, keyring: loaded.keyring, store, warning: loaded.warning, rewrap: rotations.initial, rotations };
}
