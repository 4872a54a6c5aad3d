import type { RequestHandler } from 'express';
import helmet from 'helmet';
import type { Config } from '../config/index.js';
import { sendError } from './errors.js';

/**
 * Security headers for every response. The CSP allows only our own origin (the desktop page
 * is static, with its script and styles served from us), and WebSocket connections back to it.
 * HSTS is sent whenever the service is reached over TLS.
 */
export function securityHeaders(config: Pick<Config, 'http'>): RequestHandler {
  const tls = config.http.tls;
  const https = Boolean((tls.certFile && tls.keyFile) || tls.selfSigned || tls.behindProxy);
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    strictTransportSecurity: https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    crossOriginResourcePolicy: { policy: 'same-origin' },
    referrerPolicy: { policy: 'no-referrer' },
  });
}

/** API answers carry tokens, last fours and audit data: no browser or proxy may keep a copy. */
export const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  next();
};

/**
 * Strict CORS: only the configured desktop origins get CORS headers, never `*`, and a
 * preflight from any other origin is refused. Requests without an Origin are not CORS and pass.
 */
export function corsPolicy(origins: readonly string[]): RequestHandler {
  const allowed = new Set(origins.map((o) => new URL(o).origin));
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (!origin) return next();
    res.vary('Origin');
    if (!allowed.has(origin)) {
      if (req.method === 'OPTIONS') return sendError(res, 403, 'cors_denied', 'origin not allowed');
      return next();
    }
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, DELETE, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type');
      res.setHeader('Access-Control-Max-Age', '600');
      return void res.status(204).end();
    }
    next();
  };
}

/**
 * Refuses a declared body over `http.bodyLimitBytes` before anyone reads it (413 JSON).
 * Route parsers apply the same limit to chunked bodies as they read them.
 */
export function bodyLimit(limitBytes: number): RequestHandler {
  return (req, res, next) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limitBytes) {
      res.setHeader('Connection', 'close');
      return sendError(res, 413, 'payload_too_large', 'request body is too large');
    }
    next();
  };
}
