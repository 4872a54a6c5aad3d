import type { Config } from '../config/index.js';
import { configFingerprint } from '../config/fingerprint.js';
import { Alerter } from './alerts.js';
import { AnomalyRules, isSignatureFailure } from './anomaly.js';
import { auditDir, resolveAuditKey } from './audit-key.js';
import { drainInbox } from './inbox.js';
import { onScrubberHit, type Logger, type ScrubListener } from './logger.js';
import type { Metrics } from './metrics.js';
import { coalescingSink, FailureCoalescer } from './coalescer.js';
import { ServiceSigningKey } from './service-key.js';
import type { AuditTrail } from './audit-trail.js';
import { openTrailBackend } from './trail-backends.js';
import { SYSTEM_ACTOR, type AuditEvent, type AuditSink } from './types.js';

const RETENTION_INTERVAL_MS = 6 * 3_600_000;
/** How often events spooled by operator commands are taken into the trail. */
const INBOX_INTERVAL_MS = 2_000;
const SCRUB_ALERT_INTERVAL_MS = 60_000;
/**
 * Refusals anyone can cause without credentials: beyond `audit.failureBurst` per source and reason
 * in an `audit.failureWindowMs`, repeats fold into one record with a `count`, so they cannot flood
 * the trail (or its fsyncs).
 */
export const COALESCED_FAILURES: ReadonlySet<string> = new Set(['auth.failed', 'connector.auth_failed', 'sip.ng_refused']);

/** The coalesced refusals: those above, and every telephony provider's `{provider}.signature_failed`. */
export const coalescedFailure = (event: AuditEvent): boolean => COALESCED_FAILURES.has(event.action) || isSignatureFailure(event);

/** Distinct reasons stay distinct records: a new kind of refusal is seen at once. */
const refusalKey = (event: AuditEvent) => `${event.action}\u0000${event.source ?? event.actor.source ?? ''}\u0000${String(event.details?.reason ?? '')}`;

export interface AuditSystem {
  /** The chain: files under the data directory, or in cluster mode the PostgreSQL chain every node shares. */
  trail: AuditTrail;
  /** What modules record through: the trail, with unauthenticated refusals coalesced. */
  sink: AuditSink;
  alerter: Alerter;
  signer: ServiceSigningKey;
  /** Waits for webhook deliveries under way (until `deadline`, epoch ms), then flushes and closes the trail. */
  close(deadline?: number): Promise<void>;
}

/**
 * Builds the audit side of the service: the hash-chained trail (files, or PostgreSQL in cluster
 * mode), anomaly rules subscribed to it, alerts, the scrubber-hit alarm on the logger and the
 * trail, retention, and the inbox of events spooled by operator commands. In cluster mode the
 * anomaly rules see the records this node wrote: each rule's subjects (an agent's session, a
 * source address) are served by the node that records their events.
 */
export function createAuditSystem(deps: { config: Config; logger: Logger; metrics: Metrics }): AuditSystem {
  const { config, logger, metrics } = deps;
  const { key } = resolveAuditKey(config, { create: true });
  const signer = config.cluster.signingKeyFile ? ServiceSigningKey.fromFile(config.cluster.signingKeyFile) : ServiceSigningKey.loadOrCreate(config.dataDir);

  let alerter: Alerter | undefined;
  let closed = false;
  // One alert per minute at most, carrying the hits since the last: a systematic leak must not flood the webhook.
  let pendingHits = 0;
  let lastAlertAt = -Infinity;
  const onScrub: ScrubListener = (hits) => {
    metrics.scrubberHits.inc(hits.length);
    pendingHits += hits.length;
    if (Date.now() - lastAlertAt < SCRUB_ALERT_INTERVAL_MS) return;
    lastAlertAt = Date.now();
    // Deferred: a hit is reported from inside a log write, and the alert itself logs.
    setImmediate(() => {
      if (closed || !alerter) return;
      const count = pendingHits;
      pendingHits = 0;
      alerter.raise({ rule: 'log_scrubber_hit', message: 'a sensitive-looking value reached a log line or audit record and was masked', count });
    });
  };
  metrics.auditAvailable.set(1);
  const backend = openTrailBackend(config, key, {
    logger,
    onScrub,
    onWriteFailed: (code, first) => {
      metrics.auditWriteFailures.labels(code).inc();
      metrics.auditAvailable.set(0);
      if (first) logger.error({ code }, 'the audit trail cannot be written: captures are refused (audit_unavailable) until it recovers; events are held in memory');
    },
    onRecovered: (outage) => {
      metrics.auditAvailable.set(1);
      logger.warn({ ...outage }, 'the audit trail is writable again: held events written, captures accepted');
    },
  });
  const { trail } = backend;
  const coalescer = new FailureCoalescer(trail, { windowMs: config.audit.failureWindowMs, burst: config.audit.failureBurst, keyOf: refusalKey });
  const sink = coalescingSink(trail, coalescer, coalescedFailure);
  alerter = new Alerter({ logger, metrics, audit: trail, webhookUrl: config.audit.alertWebhookUrl, signer });
  onScrubberHit(logger, onScrub);

  backend.recordConfigChange(configFingerprint(config));

  const rules = new AnomalyRules(config.audit.rules);
  trail.subscribe((record) => {
    for (const alert of rules.observe(record)) alerter.raise(alert);
  });

  // Archiving reads and gzips whole day files: asynchronous, and never two runs at once.
  let retaining: Promise<void> | undefined;
  const retain = () => {
    retaining ??= backend
      .retain(Date.now())
      .then(({ archived, deleted }) => {
        if (archived + deleted > 0) trail.record({ action: 'audit.retention', actor: SYSTEM_ACTOR, outcome: 'success', details: { archived, deleted } });
      })
      .catch((err: unknown) => logger.error({ err }, 'audit retention failed'))
      .finally(() => (retaining = undefined));
  };
  retain();
  const timer = setInterval(retain, RETENTION_INTERVAL_MS).unref();

  let draining: Promise<void> | undefined;
  const drain = () =>
    (draining ??= drainInbox(auditDir(config), trail)
      .then(() => undefined)
      .catch((err: unknown) => logger.error({ err }, 'audit inbox could not be drained'))
      .finally(() => (draining = undefined)));
  void drain();
  const inboxTimer = setInterval(drain, INBOX_INTERVAL_MS).unref();

  return {
    trail,
    sink,
    alerter,
    signer,
    async close(deadline = Date.now() + 5_000) {
      clearInterval(timer);
      clearInterval(inboxTimer);
      await draining;
      await drain();
      let timeout: NodeJS.Timeout | undefined;
      await Promise.race([alerter.idle(), new Promise((resolve) => (timeout = setTimeout(resolve, Math.max(0, deadline - Date.now()))))]);
      clearTimeout(timeout);
      closed = true;
      coalescer.flush();
      await retaining;
      await backend.close();
    },
  };
}
