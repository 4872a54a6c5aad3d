import { createHmac, randomBytes } from 'node:crypto';
import { ToneguardError } from '../errors.js';
import { open, seal } from './aead.js';
import type { KeyringPort, WrappedKey } from './types.js';

export const KEY_BYTES = 32;

/** One key-encryption key version. `createdAt` is unknown for KEKs given as bare `version:base64`. */
export interface KekEntry {
  version: number;
  key: Buffer;
  createdAt: string | null;
}

/** What may be shown about a KEK version: never key material. */
export interface KekVersionInfo {
  version: number;
  createdAt: string | null;
  current: boolean;
}

/**
 * Versioned key-encryption keys for envelope encryption. Every version decrypts; only the
 * newest wraps. Also holds the fingerprint key for keyed (HMAC) lookups, when configured.
 */
export class Keyring implements KeyringPort {
  readonly currentVersion: number;
  private readonly keks: Map<number, Buffer>;
  private readonly entries: readonly KekEntry[];
  private readonly fingerprintKey: Buffer | null;

  constructor(entries: readonly KekEntry[], options: { fingerprintKey?: Buffer | null } = {}) {
    if (entries.length === 0) throw new ToneguardError('config_missing_secret', 'The keyring needs at least one key-encryption key', 500);
    for (const entry of entries) {
      if (!Number.isInteger(entry.version) || entry.version < 1) throw new ToneguardError('config_invalid', 'KEK versions must be whole numbers from 1', 500);
      if (entry.key.length !== KEY_BYTES) throw new ToneguardError('config_invalid', `KEK version ${entry.version} is not a 256-bit key`, 500);
    }
    this.keks = new Map(entries.map((e) => [e.version, e.key]));
    if (this.keks.size !== entries.length) throw new ToneguardError('config_invalid', 'KEK versions must be unique', 500);
    this.entries = [...entries].sort((a, b) => a.version - b.version);
    this.currentVersion = this.entries[this.entries.length - 1].version;
    const fingerprintKey = options.fingerprintKey ?? null;
    if (fingerprintKey && fingerprintKey.length < KEY_BYTES) throw new ToneguardError('config_invalid', 'The fingerprint key must be at least 256 bits', 500);
    this.fingerprintKey = fingerprintKey;
  }

  newDataKey(aad: string): { key: Buffer; wrapped: WrappedKey } {
    const key = randomBytes(KEY_BYTES);
    return { key, wrapped: this.wrap(key, aad) };
  }

  unwrapDataKey(wrapped: WrappedKey, aad: string): Buffer {
    const kek = this.keks.get(wrapped.keyVersion);
    if (!kek) throw new ToneguardError('key_unknown_version', `No key-encryption key of version ${wrapped.keyVersion} is loaded`, 500);
    const key = open(kek, Buffer.from(wrapped.wrapped, 'base64url'), aad);
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
    return this.entries.map((e) => ({ version: e.version, createdAt: e.createdAt, current: e.version === this.currentVersion }));
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
    const kek = this.keks.get(this.currentVersion) as Buffer;
    return { keyVersion: this.currentVersion, wrapped: seal(kek, key, aad).toString('base64url') };
  }
}
