import { join } from 'node:path';
import { SYSTEM_ACTOR, type AuditSink } from '../audit/types.js';
import type { Config } from '../config/index.js';
import { loadKeyring, type LoadedKeyring } from './keyring-source.js';
import { auditRotation, rewrapKeys, type RewrapResult } from './rewrap.js';
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
 * older KEK version (after a rotation) are re-wrapped in the background; old versions keep
 * decrypting meanwhile.
 */
export function openVault(config: Config, audit: AuditSink): OpenedVault {
  const { keyring, warning } = loadKeyring(config, { dataDir: config.dataDir, profile: config.profile });
  const store = openStore(config);
  const vault = createVault({ config, keyring, store, audit });
  const stop = new AbortController();
  const rewrap = rewrapKeys(store, keyring, { signal: stop.signal }).then((result) => {
    if (result.rewrapped + result.failed > 0) auditRotation(audit, SYSTEM_ACTOR, result, null);
    return result;
  });
  // Whoever awaits `rewrap` sees a failure; it must never become an unhandled rejection.
  const settled = rewrap.catch(() => undefined);
  const close = async (): Promise<void> => {
    stop.abort();
    await settled;
    await vault.close();
  };
  return { vault: { ...vault, close }, keyring, store, warning, rewrap };
}
