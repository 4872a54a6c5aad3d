import { existsSync, mkdirSync, statSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

/** New files and folders are the service user's alone: 0600 files, 0700 folders. */
const PRIVATE_UMASK = 0o077;

/**
 * Makes every file this process creates from now on private, whatever mode the code that
 * creates it asks for (SQLite, for one, asks for 0644). Process-wide, so it is set by the
 * entry points (`startServer`, the CLI); worker threads share it and cannot set it.
 */
export function restrictNewFiles(): void {
  if (isMainThread) process.umask(PRIVATE_UMASK);
}

/** Creates the data directory (and missing parents) 0700. An existing one keeps its mode; see `dataDirProblem`. */
export function createPrivateDataDir(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
}

/**
 * Why an existing data directory exposes the vault, keys and trail to other local users, or null.
 * Not repaired silently: the operator chose that mode, or shares the folder with something else.
 */
export function dataDirProblem(dataDir: string): string | null {
  if (!existsSync(dataDir)) return null;
  const mode = statSync(dataDir).mode & 0o777;
  if ((mode & 0o077) === 0) return null;
  return `the data directory (dataDir, TONEGUARD_DATA_DIR) is accessible to group or others (mode ${mode.toString(8).padStart(4, '0')}): chmod 700 it`;
}
