import { closeSync, existsSync, fsyncSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { ToneguardError } from '../errors.js';
import { backupInvalid, readBackupFile, writeBackupFile, type BackupManifest, type ManifestFacts } from './backup-format.js';

/** Copy every page in one step: the snapshot is one consistent read, and a writer elsewhere cannot make it restart for ever. */
const ALL_PAGES = 0x7fffffff;

type Counts = Pick<ManifestFacts, 'counts' | 'keyVersions'>;

/** What a SQLite vault file holds, counted (never read: rows stay ciphertext). Throws `backup_invalid` if the file is not sound. */
function countSnapshot(path: string): Counts {
  const db = new Database(path, { fileMustExist: true });
  try {
    const integrity = db.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') throw backupInvalid('snapshot integrity');
    const byKind = Object.fromEntries(
      db.prepare<[], { kind: string; n: number }>('SELECT kind, COUNT(*) AS n FROM records GROUP BY kind ORDER BY kind').all().map((r) => [r.kind, r.n]),
    );
    const one = (sql: string) => (db.prepare<[], { n: number }>(sql).get() as { n: number }).n;
    const versions = db
      .prepare<[], { v: number }>('SELECT key_version AS v FROM records UNION SELECT key_version FROM subject_keys ORDER BY v')
      .all()
      .map((r) => r.v);
    return {
      counts: { records: one('SELECT COUNT(*) AS n FROM records'), subjectKeys: one('SELECT COUNT(*) AS n FROM subject_keys'), byKind },
      keyVersions: versions,
    };
  } finally {
    db.close();
  }
}

/** A private scratch directory (0700) removed whatever happens. */
async function withScratch<T>(run: (dir: string) => Promise<T> | T): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'toneguard-backup-'));
  try {
    return await run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Takes a consistent online snapshot of the SQLite vault at `dbPath` (SQLite's backup API, safe
 * while the service writes), makes it a self-contained file, counts it, and writes it encrypted
 * with its manifest to `outPath`. Only what is on disk is copied: CVVs live in memory and never are.
 */
export async function backupVault(options: { dbPath: string; outPath: string; key: Buffer; now?: () => number }): Promise<BackupManifest> {
  if (!existsSync(options.dbPath)) throw new ToneguardError('vault_not_found', `there is no vault at ${options.dbPath}`, 2);
  if (existsSync(options.outPath)) throw new ToneguardError('backup_exists', `${options.outPath} already exists; backups are never overwritten`, 2);
  return withScratch(async (dir) => {
    const snapshot = join(dir, 'vault.db');
    const source = new Database(options.dbPath, { fileMustExist: true });
    try {
      source.pragma('busy_timeout = 5000');
      await source.backup(snapshot, { progress: () => ALL_PAGES });
    } finally {
      source.close();
    }
    const copy = new Database(snapshot);
    copy.pragma('journal_mode = DELETE');
    copy.close();
    const createdAt = new Date((options.now ?? Date.now)()).toISOString();
    return writeBackupFile(options.outPath, options.key, { createdAt, store: 'sqlite', ...countSnapshot(snapshot) }, snapshot);
  });
}

/** Decrypts `inPath` into a new file at `target` (0600) and checks it against its manifest; the file is removed on any failure. */
function decryptInto(inPath: string, key: Buffer, target: string): BackupManifest {
  const fd = openSync(target, 'wx', 0o600);
  const removeTarget = (err: unknown): never => {
    unlinkSync(target);
    throw err;
  };
  let manifest: BackupManifest;
  try {
    manifest = readBackupFile(inPath, key, (chunk) => writeSync(fd, chunk));
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    return removeTarget(err);
  }
  closeSync(fd);
  try {
    const found = countSnapshot(target);
    if (JSON.stringify(found) !== JSON.stringify({ counts: manifest.counts, keyVersions: manifest.keyVersions })) throw backupInvalid('snapshot does not match its manifest');
  } catch (err) {
    return removeTarget(err);
  }
  return manifest;
}

/** Checks a backup end to end (every segment, the checksum, SQLite integrity, the counts) without restoring it. */
export async function verifyBackup(options: { inPath: string; key: Buffer }): Promise<BackupManifest> {
  return withScratch((dir) => {
    const manifest = decryptInto(options.inPath, options.key, join(dir, 'vault.db'));
    unlinkSync(join(dir, 'vault.db'));
    return manifest;
  });
}

/**
 * Restores a backup as the vault at `dbPath`, which must not exist yet: the snapshot is
 * decrypted beside it, verified, fsynced and renamed into place, so a vault either appears whole or not at all.
 */
export function restoreVault(options: { inPath: string; key: Buffer; dbPath: string }): BackupManifest {
  const { dbPath } = options;
  if (['', '-wal', '-shm', '-journal'].some((suffix) => existsSync(`${dbPath}${suffix}`))) {
    throw new ToneguardError('restore_target_not_empty', `a vault already exists at ${dbPath}; restore only into a data directory without one`, 2);
  }
  mkdirSync(dirname(dbPath), { recursive: true, mode: 0o700 });
  const restoring = `${dbPath}.restoring`;
  if (existsSync(restoring)) unlinkSync(restoring);
  const manifest = decryptInto(options.inPath, options.key, restoring);
  renameSync(restoring, dbPath);
  const dirFd = openSync(dirname(dbPath), 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
  return manifest;
}
