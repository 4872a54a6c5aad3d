import type { Request, RequestHandler } from 'express';
import type { Logger } from '../audit/logger.js';
import type { Metrics } from '../audit/metrics.js';
import { truncateForLog } from '../audit/scrubber.js';

/** The longest request path an access line carries; longer ones are cut (a path is attacker-sized). */
export const MAX_LOGGED_PATH_CHARS = 256;

/** The route pattern that answered (`/v1/captures/:id`), or `unmatched`: bounded, whatever was requested. */
function routeOf(req: Request): string {
  return req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
}

/**
 * One line per request: method, route pattern, status and duration, plus the path (without its
 * query string, cut to `MAX_LOGGED_PATH_CHARS`) when a route matched and answered below 400. A
 * refused or unmatched path is never logged: it is whatever an unauthenticated client chose to
 * send, and would let anyone feed the scrubber (and its alerts). Never headers, query strings or bodies.
 */
export function accessLog(logger: Logger, metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      const route = routeOf(req);
      metrics.httpDuration.observe({ route, status: String(res.statusCode) }, durationMs / 1000);
      const path = req.route && res.statusCode < 400 ? { path: truncateForLog(req.originalUrl.split('?')[0], MAX_LOGGED_PATH_CHARS) } : {};
      logger.info({ method: req.method, route, ...path, status: res.statusCode, durationMs: Math.round(durationMs * 10) / 10 }, 'http');
    });
    next();
  };
}
