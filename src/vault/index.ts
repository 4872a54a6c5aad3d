export * from './types.js';
export { Keyring, KEY_BYTES, type KekEntry, type KekVersionInfo, type KeyWrapper } from './keyring.js';
export { Pkcs11Keks, pkcs11Settings, type Pkcs11Settings } from './kek/pkcs11.js';
export {
  DEV_WARNING,
  devKeyringPath,
  ensureDevKeyring,
  formatKek,
  loadKeyring,
  parseKek,
  type KeyringOptions,
  type KeyringSource,
  type LoadedKeyring,
} from './keyring-source.js';
export { MemoryTokenStore, type KeyVersionCount, type StoredRecord, type SubjectKeyRecord, type TokenStore, type WrappedRef } from './store.js';
export { SqliteTokenStore } from './sqlite-store.js';
export { createVault, type ManagedVault, type VaultDeps } from './vault.js';
export { auditRotation, rewrapKeys, type RewrapOptions, type RewrapResult } from './rewrap.js';
export { openStore, openVault, vaultPath, type OpenedVault } from './open.js';
export { newToken, cardAlias, TOKEN_PATTERN } from './tokens.js';
export { endOfExpiryMonth } from './lifetime.js';
export { canonicalReaders, RecordNotBoundError, type Readers } from './binding.js';
