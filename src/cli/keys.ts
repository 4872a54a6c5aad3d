import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../config/index.js';
import type { AuditSink, Actor } from '../audit/types.js';
import {
  auditRotation,
  devKeyringPath,
  ensureDevKeyring,
  formatKek,
  KEY_BYTES,
  loadKeyring,
  openStore,
  Pkcs11Keks,
  pkcs11Settings,
  rewrapKeys,
  type LoadedKeyring,
} from '../vault/index.js';
import { listKeyVersions } from '../vault/key-versions.js';
import { numberFlag, type ParsedArgs } from './args.js';
import { audited } from './audited.js';

const keyring = (config: Config): LoadedKeyring => loadKeyring(config, { dataDir: config.dataDir, profile: config.profile });
const hasConfiguredKeks = (config: Config): boolean => config.vault.keks.length > 0 || config.vault.kekFile !== null;

/** Generates a KEK version inside the HSM token; the key never leaves it. Prints its version and label. */
function generateInToken(config: Config, args: ParsedArgs, audit: AuditSink, operator: Actor): number {
  const hsm = Pkcs11Keks.open(pkcs11Settings(config));
  try {
    const next = Math.max(0, ...hsm.read().map((entry) => entry.version)) + 1;
    const version = numberFlag(args, 'version', next);
    const label = hsm.generate(version);
    audit.record({ action: 'keys.generate', actor: operator, outcome: 'success', resource: { type: 'kek', id: String(version) }, details: { source: 'pkcs11' } });
    process.stdout.write(`${JSON.stringify({ version, label, source: 'pkcs11' })}\n`);
    return 0;
  } finally {
    hsm.close();
  }
}

/**
 * `toneguard keys generate [--version N]`: with the pkcs11 provider, generates the KEK inside the
 * HSM token; in development without configured KEKs, creates the local keyring file; otherwise
 * prints a new `version:base64` KEK (the only output, so it can be appended to a KEK file) for the
 * operator to place in TONEGUARD_KEKS or the KEK file.
 */
export async function keysGenerateCommand(args: ParsedArgs): Promise<number> {
  const config = loadConfig();
  return audited(config, (audit, operator) => {
    if (config.vault.kek.provider === 'pkcs11') return generateInToken(config, args, audit, operator);
    if (config.profile === 'development' && !hasConfiguredKeks(config)) {
      const created = ensureDevKeyring(config.dataDir);
      const file = devKeyringPath(config.dataDir);
      audit.record({ action: 'keys.generate', actor: operator, outcome: 'success', resource: { type: 'keyring', id: file }, details: { created } });
      process.stdout.write(`${JSON.stringify({ file, created })}\n`);
      return 0;
    }
    const next = hasConfiguredKeks(config) ? keyring(config).keyring.currentVersion + 1 : 1;
    const version = numberFlag(args, 'version', next);
    const key = randomBytes(KEY_BYTES);
    process.stdout.write(`${formatKek(version, key)}\n`);
    key.fill(0);
    audit.record({ action: 'keys.generate', actor: operator, outcome: 'success', resource: { type: 'kek', id: String(version) } });
    return 0;
  });
}

/**
 * `toneguard keys rotate [--batch-size N]`: adds a KEK version where the keys are kept (HSM token,
 * development keyring or KEK file; with `vault.keks` the operator adds it there first), then re-wraps
 * every data key under the newest version in batches. Records are never decrypted, only their keys.
 * A running service sees the new version by itself (it polls the file or token) and keeps reading
 * keys this re-wrap has already moved.
 */
export async function keysRotateCommand(args: ParsedArgs): Promise<number> {
  const config = loadConfig();
  return audited(config, async (audit, operator) => {
    const loaded = keyring(config);
    const store = openStore(config);
    try {
      const addedVersion = loaded.source === 'config' ? null : loaded.addVersion();
      const result = await rewrapKeys(store, loaded.keyring, { batchSize: numberFlag(args, 'batch-size', 500) });
      auditRotation(audit, operator, result, addedVersion);
      process.stdout.write(`${JSON.stringify({ addedVersion, ...result })}\n`);
      return result.failed === 0 ? 0 : 1;
    } finally {
      await store.close();
      loaded.close();
    }
  });
}

/** `toneguard keys list`: one JSON line per KEK version: created date and how many keys it wraps. Never key material. */
export async function keysListCommand(_args: ParsedArgs): Promise<number> {
  for (const line of await listKeyVersions(loadConfig())) process.stdout.write(`${JSON.stringify(line)}\n`);
  return 0;
}
