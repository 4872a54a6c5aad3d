import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../config/index.js';
import { ToneguardError } from '../errors.js';
import { Pkcs11Keks, pkcs11Settings } from './kek/pkcs11.js';
import { KEY_BYTES, Keyring, type KekEntry } from './keyring.js';

/** Where the keys came from, which decides where `keys rotate` can add a version. */
export type KeyringSource = 'config' | 'kek-file' | 'development' | 'pkcs11';

export interface LoadedKeyring {
  keyring: Keyring;
  source: KeyringSource;
  /** The file new versions are written to (kek file or development keyring), when there is one. */
  file: string | null;
  /** Set when development keys are in use: the caller must log it loudly. */
  warning: string | null;
  /** Adds the next KEK version where the keys live and loads it; throws `keys_not_writable` for KEKs given in configuration. */
  addVersion(): number;
  /** Releases the HSM session, if any. */
  close(): void;
}

/** Where one provider keeps its KEK versions. */
interface KekStore {
  source: KeyringSource;
  file: string | null;
  read(): KekEntry[];
  /** Null: the versions are fixed for the life of the process. */
  add: ((version: number) => void) | null;
  close(): void;
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
export function parseKek(text: string, where: string): KekEntry & { key: Buffer } {
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

function configStore(config: Config): KekStore {
  if (config.vault.keks.length === 0) {
    throw new ToneguardError('config_missing_secret', 'vault.kek.provider is env but vault.keks (TONEGUARD_KEKS) is empty', 500);
  }
  const entries = config.vault.keks.map((text, i) => parseKek(text, `vault.keks entry ${i + 1}`));
  return { source: 'config', file: null, read: () => entries, add: null, close: () => undefined };
}

function kekFileStore(file: string | null): KekStore {
  if (!file) throw new ToneguardError('config_missing_secret', 'vault.kek.provider is file but vault.kekFile (TONEGUARD_KEK_FILE) is not set', 500);
  const add = (version: number): void => {
    const key = randomBytes(KEY_BYTES);
    try {
      const text = readFileSync(file, 'utf8');
      // Replaced whole, never appended: a running service polling the file never reads half a line.
      writePrivate(file, `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${formatKek(version, key)}\n`);
    } finally {
      key.fill(0);
    }
  };
  return { source: 'kek-file', file, read: () => readKekFile(file), add, close: () => undefined };
}

function developmentStore(dataDir: string): KekStore {
  ensureDevKeyring(dataDir);
  const file = devKeyringPath(dataDir);
  const read = () => readDevKeyring(file).keks.map((k) => ({ ...parseKek(`${k.version}:${k.key}`, `version ${k.version} in ${file}`), createdAt: k.createdAt }));
  const add = (version: number): void => {
    const dev = readDevKeyring(file);
    dev.keks.push({ version, key: randomBytes(KEY_BYTES).toString('base64'), createdAt: new Date().toISOString() });
    writePrivate(file, `${JSON.stringify(dev, null, 2)}\n`);
  };
  return { source: 'development', file, read, add, close: () => undefined };
}

function pkcs11Store(config: Config): KekStore {
  const hsm = Pkcs11Keks.open(pkcs11Settings(config));
  return { source: 'pkcs11', file: null, read: () => hsm.read(), add: (version) => hsm.generate(version), close: () => hsm.close() };
}

function kekStore(config: Config, options: KeyringOptions): KekStore {
  switch (config.vault.kek.provider) {
    case 'env':
      return configStore(config);
    case 'file':
      return kekFileStore(config.vault.kekFile);
    case 'pkcs11':
      return pkcs11Store(config);
    case null:
      if (config.vault.keks.length > 0) return configStore(config);
      if (config.vault.kekFile) return kekFileStore(config.vault.kekFile);
      if (options.profile === 'production') {
        throw new ToneguardError(
          'config_missing_secret',
          'Production needs a vault key-encryption key: set vault.keks (TONEGUARD_KEKS), vault.kekFile (TONEGUARD_KEK_FILE) or vault.kek.provider pkcs11 (TONEGUARD_KEK_PROVIDER); `toneguard keys generate` prints one',
          500,
        );
      }
      return developmentStore(options.dataDir);
  }
}

/**
 * The keyring from configuration: `vault.kek.provider` names where the KEKs live (`env`: vault.keks,
 * `file`: vault.kekFile, `pkcs11`: an HSM token). Unset, it is vault.keks, else vault.kekFile, else
 * (development only) a keyring file generated under the data directory; production without a KEK
 * refuses to start. Keys in a file or a token are re-read when they change (`Keyring.reload`).
 */
export function loadKeyring(config: Config, options: KeyringOptions): LoadedKeyring {
  const configuredFingerprint = decodeKey(config.vault.fingerprintKey, 'vault.fingerprintKey');
  const store = kekStore(config, options);
  try {
    const fingerprintKey =
      configuredFingerprint ?? (store.source === 'development' && store.file ? decodeKey(readDevKeyring(store.file).fingerprintKey, `the fingerprint key in ${store.file}`) : null);
    const keyring = new Keyring(store.read(), { fingerprintKey, ...(store.add ? { refresh: () => store.read() } : {}) });
    const addVersion = (): number => {
      if (!store.add) {
        throw new ToneguardError(
          'keys_not_writable',
          'The KEKs come from configuration (vault.keks): add a new version printed by `toneguard keys generate` there, restart, then run `toneguard keys rotate`',
          400,
        );
      }
      keyring.reload();
      const version = keyring.currentVersion + 1;
      store.add(version);
      keyring.reload();
      return version;
    };
    return { keyring, source: store.source, file: store.file, warning: store.source === 'development' ? DEV_WARNING : null, addVersion, close: () => store.close() };
  } catch (err) {
    store.close();
    throw err;
  }
}
