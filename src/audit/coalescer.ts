import type { AuditEvent, AuditSink } from './types.js';

/** Keys one window may track; beyond, further keys of an action share one overflow key. */
const MAX_KEYS = 1_000;

export interface FailureCoalescerOptions {
  windowMs: number;
  /** Events of a key written one by one in each window before the rest are folded (at least 1). */
  burst: number;
  /** Which events fold together. Default: the action and the source address. */
  keyOf?: (event: AuditEvent) => string;
  maxKeys?: number;
}

interface Folded {
  /** Events of the key this window, written or folded. */
  seen: number;
  /** The latest event folded in: the record written at the window's end carries its details. */
  latest: AuditEvent;
  /** Events folded (not written one by one). */
  folded: number;
}

const byActionAndSource = (event: AuditEvent) => `${event.action}\u0000${event.source ?? event.actor.source ?? ''}`;

/**
 * Folds repeated failures into few audit records, so a flood of refusals cannot flood the trail.
 * The first `burst` events of a key in a window are written as they come, unchanged; the rest are
 * counted and written as one record with their `count` (and `coalesced: true`) when the window
 * ends. So a key costs at most `burst + 1` records per window, whatever the flood, and memory is
 * bounded by `maxKeys`.
 */
export class FailureCoalescer {
  private readonly open = new Map<string, Folded>();
  private timer: NodeJS.Timeout | undefined;
  private readonly keyOf: (event: AuditEvent) => string;
  private readonly maxKeys: number;

  constructor(
    private readonly sink: AuditSink,
    private readonly options: FailureCoalescerOptions,
  ) {
    this.keyOf = options.keyOf ?? byActionAndSource;
    this.maxKeys = options.maxKeys ?? MAX_KEYS;
  }

  /** Passes the durability promise on for an event recorded now; a folded one has none. */
  record(event: AuditEvent): void | Promise<void> {
    const key = this.keyFor(event);
    let entry = this.open.get(key);
    if (!entry) {
      entry = { seen: 0, latest: event, folded: 0 };
      this.open.set(key, entry);
      this.timer ??= setTimeout(() => this.flush(), this.options.windowMs).unref();
    }
    entry.seen += 1;
    if (entry.seen <= Math.max(1, this.options.burst)) return this.sink.record(event);
    entry.latest = event;
    entry.folded += 1;
  }

  /** Writes the counts folded so far and starts a fresh window (the end of each window, and shutdown). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const entries = [...this.open.values()];
    this.open.clear();
    for (const { latest, folded } of entries) {
      if (folded > 0) this.sink.record({ ...latest, details: { ...latest.details, count: folded, coalesced: true, windowMs: this.options.windowMs } });
    }
  }

  private keyFor(event: AuditEvent): string {
    const key = this.keyOf(event);
    if (this.open.has(key) || this.open.size < this.maxKeys) return key;
    return `${event.action}\u0000overflow`;
  }
}

/**
 * An AuditSink that folds the failures of the given actions through a coalescer and passes every
 * other event (and every success) straight on. Refusal paths keep calling `record` as before.
 */
export function coalescingSink(sink: AuditSink, coalescer: FailureCoalescer, actions: ReadonlySet<string> | ((event: AuditEvent) => boolean)): AuditSink {
  const folds = typeof actions === 'function' ? actions : (event: AuditEvent) => actions.has(event.action);
  return {
    record: (event) => (folds(event) && event.outcome !== 'success' ? coalescer.record(event) : sink.record(event)),
    ...(sink.available ? { available: () => sink.available!() } : {}),
  };
}
