import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every Prometheus metric Toneguard exposes, on a registry of its own so that several
 * instances (tests) never share counters. Labels never carry a sensitive value.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly activeCalls = this.gauge('toneguard_active_calls', 'Calls with at least one live media leg');
  readonly framesIn: FrameTally<'leg'> = new FrameTally(this.counter('toneguard_media_frames_in_total', 'Media frames received', ['leg'], () => this.framesIn.flush()));
  readonly framesOut: FrameTally<'leg'> = new FrameTally(this.counter('toneguard_media_frames_out_total', 'Media frames sent', ['leg'], () => this.framesOut.flush()));
  readonly framesDropped: FrameTally<'leg' | 'reason'> = new FrameTally(
    this.counter('toneguard_media_frames_dropped_total', 'Media frames dropped', ['leg', 'reason'], () => this.framesDropped.flush()),
  );
  readonly maskedMs = this.counter('toneguard_masked_milliseconds_total', 'Caller audio replaced by the masker, in ms');
  readonly digitsCaptured = this.counter('toneguard_digits_captured_total', 'Keypresses delivered to capture sessions', ['source']);
  readonly signatureFailures = this.counter('toneguard_webhook_signature_failures_total', 'Requests refused for a missing or bad signature', ['route']);
  readonly capturesTotal = this.counter('toneguard_captures_total', 'Captures by final state', ['state']);
  readonly vaultOps = this.counter('toneguard_vault_operations_total', 'Vault operations', ['op', 'outcome']);
  readonly processorDetokenizeDenied = this.counter(
    'toneguard_processor_detokenize_denied_total',
    'Detokenize requests for a token bound to other processors (answered as unknown)',
    ['processor'],
  );
  readonly scrubberHits = this.counter('toneguard_log_scrubber_hits_total', 'Sensitive-looking values masked by the last-line log scrubber');
  readonly alerts = this.counter('toneguard_alerts_total', 'Anomaly alerts raised', ['rule']);
  readonly malformedMessages = this.counter('toneguard_media_malformed_messages_total', 'Media messages refused', ['reason']);
  readonly framesReordered = this.counter('toneguard_media_frames_reordered_total', 'Media messages that arrived out of order: held back and delivered, or dropped as duplicate or late', ['outcome']);
  readonly eventClients = this.gauge('toneguard_event_clients', 'Authenticated agent event sockets');
  readonly incidentFrozen = this.gauge('toneguard_incident_frozen', '1 while an incident freeze stops detokenization and new captures');
  readonly eventClientsDropped = this.counter('toneguard_event_clients_dropped_total', 'Agent event sockets closed by the server', ['reason']);
  readonly httpRateLimited = this.counter('toneguard_http_rate_limited_total', 'HTTP requests refused with 429 by the per-address limit (not access-logged)');
  readonly upgradesRefused = this.counter('toneguard_upgrades_refused_total', 'WebSocket upgrades refused by the upgrade router', ['reason']);
  readonly unauthenticatedSockets = this.gauge('toneguard_unauthenticated_sockets', 'Upgraded sockets that have not authenticated yet');
  readonly loginFailures = this.counter('toneguard_login_failures_total', 'Logins refused: wrong or missing credentials (refused) or a source backed off (blocked)', ['endpoint', 'outcome']);
  readonly auditAvailable = this.gauge('toneguard_audit_trail_available', '1 while the audit trail accepts writes, 0 while it cannot write (captures are refused)');
  readonly auditWriteFailures = this.counter('toneguard_audit_write_failures_total', 'Audit trail writes that failed (disk full, I/O error)', ['code']);
  readonly sipNgMessages = this.counter('toneguard_sip_ng_messages_total', 'ng control messages answered, by command and result (duplicates: answered from the reply cache)', ['command', 'result', 'duplicate']);
  readonly sipNgDropped = this.counter('toneguard_sip_ng_dropped_total', 'ng control datagrams dropped unanswered: sender not allowed, or no cookie', ['reason']);
  readonly sipCalls = this.gauge('toneguard_sip_calls', 'SIP calls the ng control plane holds');
  readonly sipCallsEnded = this.counter('toneguard_sip_calls_ended_total', 'SIP calls freed, by why (deleted, media_timeout, offer_timeout, no_ports, shutdown)', ['reason']);
  readonly clusterRedisUp = this.gauge('toneguard_cluster_redis_up', 'Cluster mode: 1 while this node reaches Redis, 0 while it does not');
  readonly httpDuration = new Histogram({
    name: 'toneguard_http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['route', 'status'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }

  async render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private counter<L extends string>(name: string, help: string, labelNames: readonly L[] = [], collect?: () => void): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry], collect });
  }

  private gauge(name: string, help: string): Gauge {
    return new Gauge({ name, help, registers: [this.registry] });
  }
}

/** One label set of a `FrameTally`: `inc()` is a plain addition. */
export interface FrameCount {
  inc(): void;
}

/**
 * A counter bumped once per media frame. prom-client hashes the labels on every `inc()`, even on a
 * bound child; here each label set is bound once and counted with a plain addition, and the
 * counter catches up whenever it is read (each scrape).
 */
export class FrameTally<L extends string> {
  private readonly counts = new Map<string, { n: number; inc(): void; child: { inc(value: number): void } }>();

  constructor(private readonly counter: Counter<L>) {}

  /** The count for these label values (low-cardinality: the same object for every call on them). */
  labels(...values: string[]): FrameCount {
    const key = values.join('\0');
    let count = this.counts.get(key);
    if (!count) {
      count = {
        n: 0,
        inc() {
          this.n++;
        },
        child: this.counter.labels(...values),
      };
      this.counts.set(key, count);
    }
    return count;
  }

  flush(): void {
    for (const count of this.counts.values()) {
      if (count.n === 0) continue;
      count.child.inc(count.n);
      count.n = 0;
    }
  }
}
