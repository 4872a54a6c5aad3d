import type { Logger } from '../audit/logger.js';
import type { Metrics } from '../audit/metrics.js';
import type { Actor, AuditSink } from '../audit/types.js';
import { MINUTE, sourceKey, WindowCounter } from './rate-limit.js';

export interface LoginGuardOptions {
  /** The metric's `endpoint` label. */
  endpoint: string;
  /** The audit action of a failed login, e.g. `connector.auth_failed`; the sink coalesces it per source. */
  action: string;
  actor: Actor;
  failuresPerMinute: number;
  audit: AuditSink;
  logger: Logger;
  metrics: Metrics;
}

export interface LoginGuard {
  /** Whether this source may try now; false once it failed `failuresPerMinute` times this minute (answer 429). */
  mayTry(source: string | undefined): boolean;
  /** Counts, audits and logs a failed login. */
  failed(source: string | undefined, reason: string): void;
  /** Seconds until a blocked source may try again. */
  retryAfterSeconds(): number;
}

/**
 * Backs off failed logins per source address: after `failuresPerMinute` failures in a minute,
 * the source is refused without its credentials being checked until the minute is over. No
 * delay is ever slept, so a login flood cannot hold up anything else on the event loop. Every
 * refusal is counted; the audit sink folds the records per source and a log line marks the
 * moment a source is blocked.
 */
export function createLoginGuard(options: LoginGuardOptions): LoginGuard {
  const failures = new WindowCounter(MINUTE);
  const counted = (outcome: 'refused' | 'blocked') => options.metrics.loginFailures.labels(options.endpoint, outcome).inc();
  const record = (source: string | undefined, reason: string) =>
    options.audit.record({ action: options.action, actor: { ...options.actor, ...(source ? { source } : {}) }, outcome: 'denied', ...(source ? { source } : {}), details: { reason } });
  return {
    mayTry(source) {
      if (failures.count(sourceKey(source)) < options.failuresPerMinute) return true;
      counted('blocked');
      record(source, 'backoff');
      return false;
    },
    failed(source, reason) {
      const count = failures.add(sourceKey(source));
      counted('refused');
      record(source, reason);
      if (count === options.failuresPerMinute) options.logger.warn({ source, failures: count }, 'failed logins: this source is refused for the rest of the minute');
      else if (count < options.failuresPerMinute) options.logger.info({ source, reason }, 'failed login');
    },
    retryAfterSeconds: () => Math.max(1, Math.ceil(failures.msUntilReset() / 1000)),
  };
}
