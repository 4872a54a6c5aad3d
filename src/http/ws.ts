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
  let tokens = perSecond;
  let last = now();
  return {
    allow() {
      const t = now();
      tokens = Math.min(perSecond, tokens + ((t - last) / 1000) * perSecond);
      last = t;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
}
