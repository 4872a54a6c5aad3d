import type { NgDict, NgValue } from './document.js';

/** rtpengine's error form: `result: error` and `error-reason`, nothing else. */
export function errorReply(reason: string): NgDict {
  return dict({ result: 'error', 'error-reason': reason });
}

/** `result: ok`, the given fields, and a `warning` when something was ignored. */
export function okReply(fields: Record<string, NgValue> = {}, warnings: readonly string[] = []): NgDict {
  return dict({ result: 'ok', ...fields, ...(warnings.length > 0 ? { warning: warnings.join('; ') } : {}) });
}

function dict(fields: Record<string, NgValue>): NgDict {
  return Object.assign(Object.create(null) as NgDict, fields);
}
