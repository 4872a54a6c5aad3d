import type { ErrorRequestHandler, RequestHandler } from 'express';
import { isToneguardError } from '../errors.js';
import type { Logger } from '../audit/logger.js';

/** The JSON error shape of every HTTP route: `{ "error": { "code", "message" } }`. */
export function sendError(res: Parameters<RequestHandler>[1], status: number, code: string, message: string): void {
  res.status(status).json({ error: { code, message } });
}

export const notFound: RequestHandler = (_req, res) => sendError(res, 404, 'not_found', 'no such route');

/** Maps thrown errors to JSON. Body-parser errors keep their status; anything unknown is a 500 with no detail. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (res.headersSent) return;
    if (isToneguardError(err)) {
      sendError(res, err.status, err.code, err.message);
      return;
    }
    const status = typeof err?.status === 'number' ? err.status : 500;
    if (status === 413) return sendError(res, 413, 'payload_too_large', 'request body is too large');
    if (err?.type === 'entity.parse.failed') return sendError(res, 400, 'malformed_body', 'request body could not be parsed');
    if (status >= 400 && status < 500) return sendError(res, status, 'bad_request', 'request was refused');
    logger.error({ err: { type: err?.name, message: err?.message }, route: req.path }, 'unhandled error');
    sendError(res, 500, 'internal_error', 'internal error');
  };
}
