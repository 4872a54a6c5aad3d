import type { Logger } from '../audit/logger.js';
import { SYSTEM_ACTOR, type Actor, type AuditSink } from '../audit/types.js';
import { applyIncidentAction, type IncidentAction } from './actions.js';
import { incidentDetails, type IncidentState } from './state.js';
import type { IncidentStore } from './store.js';

/** What the request paths ask of the incident switch. */
export interface IncidentGate {
  readonly frozen: boolean;
  /** Agent tokens issued before this instant (ms since the epoch) are no longer valid. */
  readonly revokedBefore: number | null;
  /** Called after every change the service applies; returns an unsubscribe function. */
  onChange(listener: (state: IncidentState) => void): () => void;
}

/** The gate plus the admin API's way to pull it. */
export interface IncidentControl extends IncidentGate {
  apply(action: IncidentAction, actor: Actor): Promise<IncidentState>;
}

export interface IncidentSwitchOptions {
  store: IncidentStore;
  /** How often the state is re-read: the fallback for a missed file watch, the only way for PostgreSQL. */
  pollMs: number;
  audit: AuditSink;
  logger: Logger;
}

/**
 * The service's side of the incident switch: reads the state at start, then follows it (the
 * store's watch where it has one, plus a poll every `pollMs`) so a freeze made elsewhere (the CLI,
 * another node) takes effect here at once or within `pollMs`. The request paths read the state
 * held in memory and never wait for the store.
 */
export class IncidentSwitch implements IncidentControl {
  private raw: string;
  private readonly listeners = new Set<(state: IncidentState) => void>();
  private readonly stopWatching: () => void;
  private readonly timer: NodeJS.Timeout;
  private refreshing: Promise<void> | undefined;
  /** Actions of this switch under way: a poll that sees one's result before it returns must not record it as made elsewhere. */
  private applying = 0;

  /** The switch, once the state has been read. */
  static async open(options: IncidentSwitchOptions): Promise<IncidentSwitch> {
    return new IncidentSwitch(options, await options.store.read());
  }

  private constructor(
    private readonly options: IncidentSwitchOptions,
    private state: IncidentState,
  ) {
    this.raw = JSON.stringify(state);
    if (state.frozen) options.logger.warn({ changedBy: state.changedBy }, 'incident freeze in force: detokenization and new captures are refused');
    let stop = () => undefined as void;
    try {
      stop = options.store.watch(() => this.follow());
    } catch (err) {
      options.logger.warn({ err }, 'incident state cannot be watched; polling only');
    }
    this.stopWatching = stop;
    this.timer = setInterval(() => this.follow(), options.pollMs).unref();
  }

  get frozen(): boolean {
    return this.state.frozen;
  }

  get revokedBefore(): number | null {
    return this.state.revokedBefore;
  }

  onChange(listener: (state: IncidentState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The admin API's way in: the same store and audit events as the CLI, applied here at once. */
  async apply(action: IncidentAction, actor: Actor): Promise<IncidentState> {
    this.applying++;
    try {
      this.take(await applyIncidentAction(this.options.store, action, actor, this.options.audit), false);
    } finally {
      this.applying--;
    }
    return this.state;
  }

  /** Re-reads the state; a change made by someone else is recorded as `incident.applied`. Concurrent calls share one read. */
  refresh(): Promise<void> {
    this.refreshing ??= this.options.store
      .read()
      .then((next) => this.take(next, this.applying === 0))
      .finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  close(): void {
    clearInterval(this.timer);
    this.stopWatching();
    this.listeners.clear();
  }

  private take(next: IncidentState, madeElsewhere: boolean): void {
    const raw = JSON.stringify(next);
    if (raw === this.raw) return;
    this.raw = raw;
    this.state = next;
    if (madeElsewhere) {
      this.options.audit.record({
        action: 'incident.applied',
        actor: SYSTEM_ACTOR,
        outcome: 'success',
        details: { ...incidentDetails(next), changedBy: next.changedBy },
      });
      this.options.logger.warn({ frozen: next.frozen, revokedBefore: next.revokedBefore, changedBy: next.changedBy }, 'incident state changed');
    }
    for (const listener of this.listeners) listener(next);
  }

  /** `refresh` from a watcher or timer, where a rejection would end the process. */
  private follow(): void {
    this.refresh().catch((err: unknown) => this.options.logger.error({ err }, 'incident state could not be read'));
  }
}
