import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../config/index.js';
import { ToneguardError } from '../errors.js';
import { KEY_BYTES, Keyring, type KekEntry } from './keyring.js';

/** Where the keys came from, which decides where `keys rotate` can add a version. */
export type KeyringSource = 'config' | 'kek-file' | 'development';

export interface LoadedKeyring {
  keyring: Keyring;
  source: KeyringSource;
  /** The file new versions are written to (kek file or development keyring), when there is one. */
  file: string | null;
  /** Set when development keys are in use: the caller must log it loudly. */
  warning: string | null;
}

export interface KeyringOptions {
  dataDir: string;
  profile: Config['profile'];
}

interface DevKeyringFile {
  keks: { version: number; key: string; createdAt: string }[];
  fingerprintKey: string;
}

export const DEV_WARNING =
  'DEVELOPMENT KEYS IN USE: the vault key-encryption key was generated locally under the data directory. Never use this profile for real card data.';

export function devKeyringPath(dataDir: string): string {
  return join(dataDir, 'keys', 'keyring.json');
}

/** A new random KEK as `version:base64`, the form `vault.keks` / `TONEGUARD_KEKS` take. */
export function formatKek(version: number, key: Buffer): string {
  return `${version}:${key.toString('base64')}`;
}

/** Parses `version:base64`; errors say which entry, never what it held. */
export function parseKek(text: string, where: string): KekEntry {
  const match = /^\s*(\d{1,6}):([A-Za-z0-9+/=_-]+)\s*$/.exec(text);
  const key = match ? Buffer.from(match[2], 'base64') : undefined;
  if (!match || !key || key.length !== KEY_BYTES) {
    throw new ToneguardError('config_invalid', `${where} is not a "version:base64" 256-bit key`, 500);
  }
  return { version: Number(match[1]), key, createdAt: null };
}

function decodeKey(text: string | null, what: string): Buffer | null {
  if (!text) return null;
  const key = Buffer.from(text, 'base64');
  if (key.length < KEY_BYTES) throw new ToneguardError('config_invalid', `${what} must be a base64 key of at least 256 bits`, 500);
  return key;
}

function readKekFile(file: string): KekEntry[] {
  if (!existsSync(file)) throw new ToneguardError('config_missing_secret', `vault.kekFile names a file that does not exist: ${file}`, 500);
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line, i) => ({ line: line.trim(), i }))
    .filter(({ line }) => line !== '' && !line.startsWith('#'))
    .map(({ line, i }) => parseKek(line, `line ${i + 1} of ${file}`));
}

function writePrivate(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, file);
}

function readDevKeyring(file: string): DevKeyringFile {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DevKeyringFile;
  } catch (err) {
    throw new ToneguardError('config_invalid', `The development keyring ${file} is unreadable`, 500, { cause: err });
  }
}

/** Creates the development keyring file (version 1 and a fingerprint key) unless it exists. Returns whether it did. */
export function ensureDevKeyring(dataDir: string): boolean {
  const file = devKeyringPath(dataDir);
  if (existsSync(file)) return false;
  const content: DevKeyringFile = {
    keks: [{ version: 1, key: randomBytes(KEY_BYTES).toString('base64'), createdAt: new Date().toISOString() }],
    fingerprintKey: randomBytes(KEY_BYTES).toString('base64'),
  };
  writePrivate(file, `${JSON.stringify(content, null, 2)}\n`);
  return true;
}

/**
 * The keyring from configuration: `vault.keks`, else `vault.kekFile`, else (development only)
 * a keyring file generated under the data directory. Production without a KEK refuses to start.
 */
export function loadKeyring(config: Config, options: KeyringOptions): LoadedKeyring {
  const configuredFingerprint = decodeKey(config.vault.fingerprintKey, 'vault.fingerprintKey');
  if (config.vault.keks.length > 0) {
    const entries = config.vault.keks.map((text, i) => parseKek(text, `vault.keks entry ${i + 1}`));
    return { keyring: new Keyring(entries, { fingerprintKey: configuredFingerprint }), source: 'config', file: null, warning: null };
  }
  if (config.vault.kekFile) {
    const file = config.vault.kekFile;
    return { keyring: new Keyring(readKekFile(file), { fingerprintKey: configuredFingerprint }), source: 'kek-file', file, warning: null };
  }
  if (options.profile === 'production') {
    throw new ToneguardError(
      'config_missing_secret',
      'Production needs a vault key-encryption key: set vault.keks (TONEGUARD_KEKS) or vault.kekFile (TONEGUARD_KEK_FILE); `toneguard keys generate` prints one',
      500,
    );
  }
  ensureDevKeyring(options.dataDir);
  const file = devKeyringPath(options.dataDir);
  const dev = readDevKeyring(file);
  const entries = dev.keks.map((k) => ({ ...parseKek(`${k.version}:${k.key}`, `version ${k.version} in ${file}`), createdAt: k.createdAt }));
  const fingerprintKey = configuredFingerprint ?? decodeKey(dev.fingerprintKey, `the fingerprint key in ${file}`);
  return { keyring: new Keyring(entries, { fingerprintKey }), source: 'development', file, warning: DEV_WARNING };
}

/**
 * Adds a new KEK version where the keys live (development keyring or kek file) and returns it.
 * KEKs given in configuration cannot be written: the operator adds the version there.
 */
export function addKekVersion(loaded: LoadedKeyring): number {
  const version = loaded.keyring.currentVersion + 1;
  const key = randomBytes(KEY_BYTES);
  try {
    if (loaded.source === 'development' && loaded.file) {
      const dev = readDevKeyring(loaded.file);
      dev.keks.push({ version, key: key.toString('base64'), createdAt: new Date().toISOString() });
      writePrivate(loaded.file, `${JSON.stringify(dev, null, 2)}\n`);
    } else if (loaded.source === 'kek-file' && loaded.file) {
      const endsWithNewline = readFileSync(loaded.file, 'utf8').endsWith('\n');
      appendFileSync(loaded.file, `${endsWithNewline ? '' : '\n'}${formatKek(version, key)}\n`, { mode: 0o600 });
    } else {
      throw new ToneguardError(
        'keys_not_writable',
        'The KEKs come from configuration (vault.keks): add a new version printed by `toneguard keys generate` there, restart, then run `toneguard keys rotate`',
        400,
      );
    }
  } finally {
    key.fill(0);
  }
  return version;
}
