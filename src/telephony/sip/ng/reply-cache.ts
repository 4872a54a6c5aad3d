export interface ReplyCacheOptions {
  /** How long a reply is kept for retransmissions. */
  ttlMs: number;
  maxEntries: number;
  now?: () => number;
}

interface Entry<T> {
  at: number;
  reply: Promise<T>;
}

/**
 * The replies to recent requests, so a module's retransmission (same cookie) gets the identical
 * answer instead of running the command twice. A retransmission that arrives while the first is
 * still being handled waits for, and gets, the same reply. Entries leave after `ttlMs` or, past
 * `maxEntries`, oldest first; insertion order is age order, so both are trimmed from the front.
 */
export class ReplyCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly now: () => number;

  constructor(private readonly options: ReplyCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The cached or in-flight reply for `key`, or, when there is none, the reply `produce` makes (cached). */
  reply(key: string, produce: () => Promise<T>): { reply: Promise<T>; duplicate: boolean } {
    const now = this.now();
    this.trim(now);
    const cached = this.entries.get(key);
    if (cached) return { reply: cached.reply, duplicate: true };
    const reply = produce();
    this.entries.set(key, { at: now, reply });
    if (this.entries.size > this.options.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    return { reply, duplicate: false };
  }

  get size(): number {
    return this.entries.size;
  }

  private trim(now: number): void {
    for (const [key, entry] of this.entries) {
      if (now - entry.at < this.options.ttlMs) return;
      this.entries.delete(key);
    }
  }
}
