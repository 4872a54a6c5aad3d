import { resolve } from 'node:path';
import type { Actor, AuditEvent, AuditSink } from '../audit/types.js';
import { isClusterMode } from '../config/cluster.js';
import { loadConfig, type Config } from '../config/index.js';
import { isToneguardError, ToneguardError } from '../errors.js';
import { backupVault, restoreVault, verifyBackup } from '../vault/backup.js';
import type { BackupManifest } from '../vault/backup-format.js';
import { parseBackupKey } from '../vault/backup-key.js';
import { shredRecord, shredSubjectRecords } from '../vault/sweeper.js';
import { openStore, vaultPath } from '../vault/open.js';
import { stringFlag, usageError, type ParsedArgs } from './args.js';
import { audited } from './audited.js';

/** Backups cover the SQLite vault; the memory store has nothing to back up, and a cluster's vault is PostgreSQL's to back up. */
function sqliteVaultPath(config: Config): string {
  if (isClusterMode(config)) {
    throw new ToneguardError(
      'backup_unsupported_store',
      "in cluster mode the vault is in PostgreSQL: back up its tables (vault_records, vault_subject_keys) with pg_dump, or keep a base backup with WAL archiving for point-in-time recovery (PITR)",
      2,
    );
  }
  if (config.vault.store !== 'sqlite') throw new ToneguardError('backup_unsupported_store', `vault.store ${config.vault.store} cannot be backed up; only sqlite`, 2);
  return vaultPath(config);
}

/** What an audit event may say about a backup: its size, checksum and counts, never a value. */
const manifestDetails = (m: BackupManifest): AuditEvent['details'] => ({
  createdAt: m.createdAt,
  records: m.counts.records,
  subjectKeys: m.counts.subjectKeys,
  keyVersions: m.keyVersions.join(','),
  sha256: m.snapshot.sha256,
  bytes: m.snapshot.bytes,
});

/** Runs `work` with the backup key, recording `action` as a success or a failure (with its code), then zeroes the key. */
async function backupOperation(
  config: Config,
  action: string,
  file: string,
  work: (key: Buffer) => Promise<BackupManifest> | BackupManifest,
): Promise<number> {
  return audited(config, async (audit: AuditSink, operator: Actor) => {
    const resource = { type: 'backup', id: resolve(file) };
    let key: Buffer | undefined;
    try {
      key = parseBackupKey(config.vault.backupKey);
      const manifest = await work(key);
      audit.record({ action, actor: operator, outcome: 'success', resource, details: manifestDetails(manifest) });
      process.stdout.write(`${JSON.stringify({ ok: true, file: resource.id, manifest })}\n`);
      return 0;
    } catch (err) {
      audit.record({ action, actor: operator, outcome: 'failure', resource, details: { code: isToneguardError(err) ? err.code : 'internal_error' } });
      throw err;
    } finally {
      key?.fill(0);
    }
  });
}

/** `toneguard vault backup --out FILE`: an encrypted, authenticated snapshot of the running (or stopped) vault. */
export async function vaultBackupCommand(args: ParsedArgs): Promise<number> {
  const out = stringFlag(args, 'out', true);
  const config = loadConfig();
  const dbPath = sqliteVaultPath(config);
  return backupOperation(config, 'vault.backup', out, (key) => backupVault({ dbPath, outPath: out, key }));
}

/** `toneguard vault backup-verify FILE`: exit 0 when every segment, the checksum and the snapshot check out. */
export async function vaultBackupVerifyCommand(args: ParsedArgs): Promise<number> {
  const file = args.positionals[0];
  if (!file) throw usageError('a backup FILE is required');
  const config = loadConfig();
  return backupOperation(config, 'vault.backup_verified', file, (key) => verifyBackup({ inPath: file, key }));
}

/** `toneguard vault restore --in FILE`: into a data directory that holds no vault yet. */
export async function vaultRestoreCommand(args: ParsedArgs): Promise<number> {
  const file = stringFlag(args, 'in', true);
  const config = loadConfig();
  const dbPath = sqliteVaultPath(config);
  return backupOperation(config, 'vault.restored', file, (key) => restoreVault({ inPath: file, key, dbPath }));
}

/**
 * `toneguard vault shred TOKEN` or `--subject ID`: a data-subject request. The record's row,
 * with its wrapped data key, is deleted and the freed pages overwritten (crypto-shredding);
 * with `--subject`, the subject's key and every record sealed under it.
 */
export async function vaultShredCommand(args: ParsedArgs): Promise<number> {
  const subject = stringFlag(args, 'subject');
  const token = args.positionals[0];
  if (!subject === !token) throw usageError('give a TOKEN or --subject ID (one of them)');
  const config = loadConfig();
  return audited(config, async (audit, operator) => {
    const store = openStore(config);
    try {
      const result = subject ? await shredSubjectRecords(store, subject, operator, audit) : await shredRecord(store, token!, operator, audit);
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return result.shredded ? 0 : 1;
    } finally {
      await store.close();
    }
  });
}
