import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { ServiceSigningKey } from './service-key.js';
import { SYSTEM_ACTOR, type AuditSink } from './types.js';

/** Something an operator should look at. Keys and counts only, never a sensitive value. */
export interface Alert {
  rule: string;
  message: string;
  /** What the rule counted by: an actor id, a call, a source address. */
  subject?: string;
  count?: number;
  threshold?: number;
}

export interface AlerterDeps {
  logger: Logger;
  metrics: Metrics;
  audit: AuditSink;
  /** POSTed a JWS-signed JSON body for each alert, when set. */
  webhookUrl?: string | null;
  signer?: ServiceSigningKey;
  webhookTimeoutMs?: number;
}

/** Sends each alert everywhere an operator may watch: the log, a metric, the audit trail and a webhook. */
export class Alerter {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly deps: AlerterDeps) {
    if (deps.webhookUrl && !deps.signer) throw new Error('an alert webhook needs a signing key');
  }

  raise(alert: Alert): void {
    const at = new Date().toISOString();
    this.deps.logger.warn({ alert }, `alert: ${alert.rule}`);
    this.deps.metrics.alerts.inc({ rule: alert.rule });
    this.deps.audit.record({
      action: 'alert.raised',
      actor: SYSTEM_ACTOR,
      outcome: 'success',
      details: { rule: alert.rule, message: alert.message, subject: alert.subject ?? null, count: alert.count ?? null, threshold: alert.threshold ?? null },
    });
    if (this.deps.webhookUrl) this.track(this.post(this.deps.webhookUrl, { ...alert, at, service: 'toneguard' }));
  }

  /** Resolves when every webhook delivery under way has finished (for shutdown and tests). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private track(delivery: Promise<void>): void {
    this.pending.add(delivery);
    void delivery.finally(() => this.pending.delete(delivery));
  }

  private async post(url: string, body: Record<string, unknown>): Promise<void> {
    try {
      const jws = await this.deps.signer!.signJson(body);
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/jose+json' },
        body: JSON.stringify(jws),
        signal: AbortSignal.timeout(this.deps.webhookTimeoutMs ?? 5_000),
        redirect: 'error',
      });
      if (!response.ok) this.deps.logger.error({ status: response.status, rule: body.rule }, 'alert webhook refused the alert');
    } catch (err) {
      this.deps.logger.error({ err, rule: body.rule }, 'alert webhook delivery failed');
    }
  }
}
