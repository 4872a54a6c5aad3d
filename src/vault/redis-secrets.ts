import type { Redis } from 'ioredis';
import { open, seal } from './aead.js';
import type { Keyring } from './keyring.js';
import type { OneTimeSecretStore } from './one-time-secrets.js';

/** What Redis holds for one secret: a fresh data key wrapped by the keyring, and the secret sealed under it. */
interface SealedEntry {
  keyVersion: number;
  wrappedKey: string;
  sealed: string;
}

/** Distinct from the record layers' associated data, so a sealed secret never opens as anything else. */
const secretAad = (id: string): string => `one-time-secret:${id}`;

/**
 * Cluster mode's one-time secrets: in Redis (which keeps nothing on disk in this deployment), so a
 * detokenize on any node gets a CVV once within its TTL. Each secret is sealed under its own data
 * key, wrapped by the KEK (the key is never in Redis in the clear, nor the secret); `PX` expires
 * it and `GETDEL` makes the read the only one, across nodes.
 */
export class RedisOneTimeSecrets implements OneTimeSecretStore {
  constructor(
    private readonly redis: Redis,
    private readonly keyring: Pick<Keyring, 'newDataKey' | 'unwrapDataKey'>,
    /** `cluster.redisPrefix`. */
    private readonly prefix: string,
  ) {}

  async put(id: string, bytes: Uint8Array, ttlMs: number): Promise<void> {
    const aad = secretAad(id);
    const { key, wrapped } = this.keyring.newDataKey(aad);
    let sealed: Buffer;
    try {
      sealed = seal(key, bytes, aad);
    } finally {
      key.fill(0);
    }
    const entry: SealedEntry = { keyVersion: wrapped.keyVersion, wrappedKey: wrapped.wrapped, sealed: sealed.toString('base64url') };
    await this.redis.set(this.keyOf(id), JSON.stringify(entry), 'PX', ttlMs);
  }

  async take(id: string): Promise<string | undefined> {
    const raw = await this.redis.getdel(this.keyOf(id));
    if (raw === null) return undefined;
    const entry = JSON.parse(raw) as SealedEntry;
    const aad = secretAad(id);
    const key = this.keyring.unwrapDataKey({ keyVersion: entry.keyVersion, wrapped: entry.wrappedKey }, aad);
    let plain: Buffer;
    try {
      plain = open(key, Buffer.from(entry.sealed, 'base64url'), aad);
    } finally {
      key.fill(0);
    }
    const value = plain.toString('ascii');
    plain.fill(0);
    return value;
  }

  async destroy(id: string): Promise<void> {
    await this.redis.del(this.keyOf(id));
  }

  /** Nothing to let go of: the secrets belong to the cluster (another node may still serve them) and the Redis client to whoever made it. */
  async close(): Promise<void> {}

  private keyOf(id: string): string {
    return `${this.prefix}vault:secret:${id}`;
  }
}
