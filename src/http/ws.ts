import type { ServerOptions } from 'ws';
import type { Config } from '../config/index.js';

/**
 * Options every WebSocket server must use: bounded frames (`media.maxPayloadBytes`), no
 * compression (CRIME-style leaks and CPU), and no server of its own (upgrades come through the router).
 */
export function wsServerOptions(config: Pick<Config, 'media'>): ServerOptions {
  return { noServer: true, maxPayload: config.media.maxPayloadBytes, perMessageDeflate: false };
}

/** Counts one connection's messages per second; `allow()` is false once the budget is spent. */
export interface MessageRateLimiter {
  allow(): boolean;
}

/**
 * A token bucket per connection: `perSecond` sustained, with a burst of one second's worth.
 * Callers close the socket (1008) when `allow()` turns false.
 */
export function createMessageRateLimiter(perSecond: number, now: () => number = () => performance.now()): MessageRateLimiter {
  return new TokenBucket(perSecond, now);
}

/** A class, not a closure: its numbers change in place, where a closure's are a new heap number on every message. */
class TokenBucket implements MessageRateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number,
  ) {
    this.tokens = perSecond;
    this.last = now();
  }

  allow(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.perSecond, this.tokens + ((t - this.last) / 1000) * this.perSecond);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
