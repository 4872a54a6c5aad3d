import { randomBytes } from 'node:crypto';
import { open, seal } from './aead.js';
import { KEY_BYTES } from './keyring.js';

/**
 * Where the vault holds secrets that must never touch a disk (the CVV, PCI 3.3.1) between
 * tokenize and the one detokenize that may return them: readable once, gone at their TTL.
 */
export interface OneTimeSecretStore {
  /** Seals a copy of `bytes` under `id`, replacing any earlier one; the bytes are sealed before the first await, so the caller may zero them once this resolves. */
  put(id: string, bytes: Uint8Array, ttlMs: number): Promise<void>;
  /** The secret, once; undefined if there is none or it has expired. */
  take(id: string): Promise<string | undefined>;
  destroy(id: string): Promise<void>;
  /** This process lets go of the store (the memory store destroys what it holds). */
  close(): Promise<void>;
}

interface Held {
  sealed: Buffer;
  expiresAt: number;
  timer: NodeJS.Timeout;
}

/**
 * One process's secrets (single node): kept in memory only, sealed under a process-lifetime key
 * separate from every PAN key (PCI 3.3.2), destroyed at their TTL. Destroying zeroes the sealed bytes.
 */
export class OneTimeSecrets implements OneTimeSecretStore {
  private readonly key = randomBytes(KEY_BYTES);
  private readonly held = new Map<string, Held>();

  constructor(private readonly now: () => number = Date.now) {}

  async put(id: string, bytes: Uint8Array, ttlMs: number): Promise<void> {
    this.forget(id);
    const timer = setTimeout(() => this.forget(id), ttlMs);
    timer.unref();
    this.held.set(id, { sealed: seal(this.key, bytes, id), expiresAt: this.now() + ttlMs, timer });
  }

  async take(id: string): Promise<string | undefined> {
    const held = this.held.get(id);
    if (!held) return undefined;
    const live = held.expiresAt > this.now();
    const plain = live ? open(this.key, held.sealed, id) : undefined;
    this.forget(id);
    if (!plain) return undefined;
    const value = plain.toString('ascii');
    plain.fill(0);
    return value;
  }

  async destroy(id: string): Promise<void> {
    this.forget(id);
  }

  async close(): Promise<void> {
    for (const id of [...this.held.keys()]) this.forget(id);
    this.key.fill(0);
  }

  private forget(id: string): void {
    const held = this.held.get(id);
    if (!held) return;
    clearTimeout(held.timer);
    held.sealed.fill(0);
    this.held.delete(id);
  }
}
