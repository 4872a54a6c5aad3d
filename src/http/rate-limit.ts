import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit, type Store } from 'express-rate-limit';
import type { Config } from '../config/index.js';
import { sendError } from './errors.js';

export const MINUTE = 60_000;
/** Keys one window may track; beyond, new keys share one bucket, so a spray of addresses cannot exhaust memory. */
const MAX_WINDOW_KEYS = 10_000;
const OVERFLOW_KEY = '\u0000overflow';

/** The key a source address is limited under: IPv6 addresses by their /56, as the HTTP limiter does. */
export function sourceKey(address: string | undefined): string {
  return ipKeyGenerator(address ?? 'unknown');
}

/**
 * Counts events per key in fixed windows, for limits outside Express (upgrades, failed logins).
 * Pure bookkeeping: the caller decides what to refuse. Memory is bounded by one window's keys.
 */
export class WindowCounter {
  private counts = new Map<string, number>();
  private windowStart: number;

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.windowStart = now();
  }

  count(key: string): number {
    this.roll();
    return this.counts.get(this.bucket(key)) ?? 0;
  }

  /** Counts one event; returns the key's count in this window, this event included. */
  add(key: string): number {
    this.roll();
    const bucket = this.bucket(key);
    const count = (this.counts.get(bucket) ?? 0) + 1;
    this.counts.set(bucket, count);
    return count;
  }

  /** Milliseconds until the counts start again from zero. */
  msUntilReset(): number {
    this.roll();
    return Math.max(0, this.windowStart + this.windowMs - this.now());
  }

  private bucket(key: string): string {
    return this.counts.has(key) || this.counts.size < MAX_WINDOW_KEYS ? key : OVERFLOW_KEY;
  }

  private roll(): void {
    const t = this.now();
    if (t - this.windowStart < this.windowMs) return;
    this.counts = new Map();
    this.windowStart = t;
  }
}

/** Where a limiter counts: this process by default; a store shared by every node in cluster mode. */
export type RateLimitStoreFactory = (name: string) => Store;

function limiter(options: { windowMs: number; limit: number; key: (req: Request) => string; message: string; onLimited?: () => void; store?: Store }): RequestHandler {
  return rateLimit({
    ...(options.store ? { store: options.store } : {}),
    windowMs: options.windowMs,
    limit: options.limit,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: options.key,
    handler: (_req, res) => {
      options.onLimited?.();
      sendError(res, 429, 'rate_limited', options.message);
    },
    // Our key functions are deliberate; the library's IPv6 key check does not apply to identities.
    validate: { keyGeneratorIpFallback: false },
  });
}

/**
 * Per source address across the whole service (`http.requestsPerMinutePerIp`), 429 JSON beyond it.
 * Mounted before the access log: a refused request costs a counter, not a log line.
 */
export function ipRateLimit(config: Pick<Config, 'http'>, onLimited?: () => void, stores?: RateLimitStoreFactory): RequestHandler {
  return limiter({
    ...(stores ? { store: stores('ip') } : {}),
    windowMs: MINUTE,
    limit: config.http.requestsPerMinutePerIp,
    key: (req) => `ip:${sourceKey(req.ip ?? req.socket.remoteAddress)}`,
    message: 'too many requests from this address',
    ...(onLimited ? { onLimited } : {}),
  });
}

/**
 * Per identity (an agent subject, a processor name): mount after authentication, with a
 * `key` that reads the identity from the request. Requests without one share the key `anonymous`.
 */
export function identityRateLimit(options: { windowMs: number; limit: number; key: (req: Request) => string | undefined; name?: string; stores?: RateLimitStoreFactory }): RequestHandler {
  return limiter({
    ...(options.stores ? { store: options.stores(options.name ?? 'identity') } : {}),
    windowMs: options.windowMs,
    limit: options.limit,
    key: (req) => `id:${options.key(req) ?? 'anonymous'}`,
    message: 'too many requests for this identity',
  });
}
