import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { Config } from '../config/index.js';
import { sendError } from './errors.js';

const MINUTE = 60_000;

function limiter(options: { windowMs: number; limit: number; key: (req: Request) => string; message: string }): RequestHandler {
  return rateLimit({
    windowMs: options.windowMs,
    limit: options.limit,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: options.key,
    handler: (_req, res) => sendError(res, 429, 'rate_limited', options.message),
    // Our key functions are deliberate; the library's IPv6 key check does not apply to identities.
    validate: { keyGeneratorIpFallback: false },
  });
}

/** Per source address across the whole service (`http.requestsPerMinutePerIp`), 429 JSON beyond it. */
export function ipRateLimit(config: Pick<Config, 'http'>): RequestHandler {
  return limiter({
    windowMs: MINUTE,
    limit: config.http.requestsPerMinutePerIp,
    key: (req) => `ip:${ipKeyGenerator(req.ip ?? req.socket.remoteAddress ?? 'unknown')}`,
    message: 'too many requests from this address',
  });
}

/**
 * Per identity (an agent subject, a processor name): mount after authentication, with a
 * `key` that reads the identity from the request. Requests without one share the key `anonymous`.
 */
export function identityRateLimit(options: { windowMs: number; limit: number; key: (req: Request) => string | undefined }): RequestHandler {
  return limiter({
    windowMs: options.windowMs,
    limit: options.limit,
    key: (req) => `id:${options.key(req) ?? 'anonymous'}`,
    message: 'too many requests for this identity',
  });
}
