import { createHmac } from 'node:crypto';
import { ToneguardError } from '../errors.js';
import { open, seal } from './aead.js';
import { randomBytes } from './random.js';
import type { KeyringPort, WrappedKey } from './types.js';

export const KEY_BYTES = 32;

/** Wraps and unwraps data keys under one KEK version, wherever that key is held (memory or an HSM). */
export interface KeyWrapper {
  /** The data key sealed with `aad` bound, as iv ‖ ciphertext ‖ tag. */
  wrap(key: Buffer, aad: string): Buffer;
  /** Throws ToneguardError `decrypt_failed` on any tampering, wrong key or wrong AAD. */
  unwrap(sealed: Buffer, aad: string): Buffer;
}

/**
 * One key-encryption key version: its bytes (env and file providers), or a wrapper that uses a
 * key which never leaves an HSM. `createdAt` is unknown for KEKs given as bare `version:base64`.
 */
export type KekEntry = { version: number; createdAt: string | null } & ({ key: Buffer } | { wrapper: KeyWrapper });

/** What may be shown about a KEK version: never key material. */
export interface KekVersionInfo {
  version: number;
  createdAt: string | null;
  current: boolean;
}

export interface KeyringSetup {
  fingerprintKey?: Buffer | null;
  /**
   * Reads the KEK versions afresh from where they live, for a running service to see a rotation
   * made elsewhere (`keys rotate`). Unset: the versions are fixed (KEKs given in configuration).
   */
  refresh?: () => readonly KekEntry[];
}

interface KekSet {
  wrappers: ReadonlyMap<number, KeyWrapper>;
  entries: readonly KekEntry[];
  current: number;
}

const softwareWrapper = (kek: Buffer): KeyWrapper => ({
  wrap: (key, aad) => seal(kek, key, aad),
  unwrap: (sealed, aad) => open(kek, sealed, aad),
});

function kekSet(entries: readonly KekEntry[]): KekSet {
  if (entries.length === 0) throw new ToneguardError('config_missing_secret', 'The keyring needs at least one key-encryption key', 500);
  for (const entry of entries) {
    if (!Number.isInteger(entry.version) || entry.version < 1) throw new ToneguardError('config_invalid', 'KEK versions must be whole numbers from 1', 500);
    if ('key' in entry && entry.key.length !== KEY_BYTES) throw new ToneguardError('config_invalid', `KEK version ${entry.version} is not a 256-bit key`, 500);
  }
  const wrappers = new Map(entries.map((e) => [e.version, 'key' in e ? softwareWrapper(e.key) : e.wrapper]));
  if (wrappers.size !== entries.length) throw new ToneguardError('config_invalid', 'KEK versions must be unique', 500);
  const sorted = [...entries].sort((a, b) => a.version - b.version);
  return { wrappers, entries: sorted, current: sorted[sorted.length - 1].version };
}

/**
 * Versioned key-encryption keys for envelope encryption. Every version decrypts; only the
 * newest wraps. Also holds the fingerprint key for keyed (HMAC) lookups, when configured.
 * With a `refresh`, the versions follow their source while the service runs: `reload` swaps
 * them in whole, and a data key under a version not yet loaded triggers one reload first, so a
 * record re-wrapped by another process is never unreadable here.
 */
export class Keyring implements KeyringPort {
  private set: KekSet;
  private readonly fingerprintKey: Buffer | null;
  private readonly refresh: (() => readonly KekEntry[]) | null;

  constructor(entries: readonly KekEntry[], options: KeyringSetup = {}) {
    this.set = kekSet(entries);
    const fingerprintKey = options.fingerprintKey ?? null;
    if (fingerprintKey && fingerprintKey.length < KEY_BYTES) throw new ToneguardError('config_invalid', 'The fingerprint key must be at least 256 bits', 500);
    this.fingerprintKey = fingerprintKey;
    this.refresh = options.refresh ?? null;
  }

  get currentVersion(): number {
    return this.set.current;
  }

  /** Whether the versions can change while running (a file or an HSM holds them). */
  get live(): boolean {
    return this.refresh !== null;
  }

  /** Reads the versions afresh from their source; returns the versions that were not loaded before. Throws if the source is unreadable, keeping what was loaded. */
  reload(): number[] {
    if (!this.refresh) return [];
    const next = kekSet(this.refresh());
    const added = [...next.wrappers.keys()].filter((version) => !this.set.wrappers.has(version));
    this.set = next;
    return added;
  }

  newDataKey(aad: string): { key: Buffer; wrapped: WrappedKey } {
    const key = randomBytes(KEY_BYTES);
    return { key, wrapped: this.wrap(key, aad) };
  }

  unwrapDataKey(wrapped: WrappedKey, aad: string): Buffer {
    const key = this.wrapperOf(wrapped.keyVersion).unwrap(Buffer.from(wrapped.wrapped, 'base64url'), aad);
    if (key.length !== KEY_BYTES) throw new ToneguardError('decrypt_failed', 'A wrapped data key has the wrong length', 500);
    return key;
  }

  /** The same data key wrapped under the current KEK (rotation). */
  rewrap(wrapped: WrappedKey, aad: string): WrappedKey {
    const key = this.unwrapDataKey(wrapped, aad);
    try {
      return this.wrap(key, aad);
    } finally {
      key.fill(0);
    }
  }

  versions(): KekVersionInfo[] {
    return this.set.entries.map((e) => ({ version: e.version, createdAt: e.createdAt, current: e.version === this.set.current }));
  }

  get hasFingerprintKey(): boolean {
    return this.fingerprintKey !== null;
  }

  /** Keyed HMAC-SHA-256 fingerprint (PCI 3.5.1.1: never a plain hash). */
  fingerprint(scope: string, value: Uint8Array): string {
    if (!this.fingerprintKey) throw new ToneguardError('config_missing_secret', 'Convergent lookup needs vault.fingerprintKey (TONEGUARD_FINGERPRINT_KEY)', 500);
    return createHmac('sha256', this.fingerprintKey).update(scope).update('\0').update(value).digest('base64url');
  }

  private wrap(key: Buffer, aad: string): WrappedKey {
    const { wrappers, current } = this.set;
    return { keyVersion: current, wrapped: (wrappers.get(current) as KeyWrapper).wrap(key, aad).toString('base64url') };
  }

  private wrapperOf(version: number): KeyWrapper {
    let wrapper = this.set.wrappers.get(version);
    if (!wrapper && this.refresh) {
      try {
        this.reload();
      } catch {
        // The source is unreadable right now: the version is as unknown as before.
      }
      wrapper = this.set.wrappers.get(version);
    }
    if (!wrapper) throw new ToneguardError('key_unknown_version', `No key-encryption key of version ${version} is loaded`, 500);
    return wrapper;
  }
}
