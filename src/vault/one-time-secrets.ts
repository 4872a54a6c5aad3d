import { randomBytes } from 'node:crypto';
import { open, seal } from './aead.js';
import { KEY_BYTES } from './keyring.js';

interface Held {
  sealed: Buffer;
  expiresAt: number;
  timer: NodeJS.Timeout;
}

/**
 * Secrets that must never touch a disk (the CVV, PCI 3.3.1): kept in memory only, sealed
 * under a process-lifetime key separate from every PAN key (PCI 3.3.2), readable once,
 * destroyed at their TTL. Destroying zeroes the sealed bytes.
 */
export class OneTimeSecrets {
  private readonly key = randomBytes(KEY_BYTES);
  private readonly held = new Map<string, Held>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Seals a copy of `bytes` under `id`, replacing any earlier one. The caller still owns `bytes`. */
  put(id: string, bytes: Uint8Array, ttlMs: number): void {
    this.destroy(id);
    const timer = setTimeout(() => this.destroy(id), ttlMs);
    timer.unref();
    this.held.set(id, { sealed: seal(this.key, bytes, id), expiresAt: this.now() + ttlMs, timer });
  }

  /** The secret, once; undefined if there is none or it has expired. */
  take(id: string): string | undefined {
    const held = this.held.get(id);
    if (!held) return undefined;
    const live = held.expiresAt > this.now();
    const plain = live ? open(this.key, held.sealed, id) : undefined;
    this.destroy(id);
    if (!plain) return undefined;
    const value = plain.toString('ascii');
    plain.fill(0);
    return value;
  }

  has(id: string): boolean {
    const held = this.held.get(id);
    return held !== undefined && held.expiresAt > this.now();
  }

  destroy(id: string): void {
    const held = this.held.get(id);
    if (!held) return;
    clearTimeout(held.timer);
    held.sealed.fill(0);
    this.held.delete(id);
  }

  get size(): number {
    return this.held.size;
  }

  clear(): void {
    for (const id of [...this.held.keys()]) this.destroy(id);
    this.key.fill(0);
  }
}
