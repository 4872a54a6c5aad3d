import type { RequestHandler } from 'express';
import type { Logger } from '../audit/logger.js';
import type { Metrics } from '../audit/metrics.js';

/**
 * One line per request: method, path without its query string, status and duration. Never
 * headers, query strings or bodies. The metric is labelled by route pattern, not raw path.
 */
export function accessLog(logger: Logger, metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const path = req.originalUrl.split('?')[0];
    res.once('finish', () => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      metrics.httpDuration.observe({ route, status: String(res.statusCode) }, durationMs / 1000);
      logger.info({ method: req.method, path, status: res.statusCode, durationMs: Math.round(durationMs * 10) / 10 }, 'http');
    });
    next();
  };
}
