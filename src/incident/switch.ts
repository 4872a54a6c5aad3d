import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from '../audit/logger.js';
import { SYSTEM_ACTOR, type Actor, type AuditSink } from '../audit/types.js';
import { applyIncidentAction, readOrFrozen, type IncidentAction } from './actions.js';
import { incidentDetails, type IncidentState } from './state.js';

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
  apply(action: IncidentAction, actor: Actor): IncidentState;
}

export interface IncidentSwitchOptions {
  path: string;
  /** The fallback re-read interval, for file systems where `fs.watch` misses a change. */
  pollMs: number;
  audit: AuditSink;
  logger: Logger;
}

/**
 * The service's side of the incident switch: reads the state file at start, then follows it
 * (`fs.watch` on its directory, plus a short poll) so a CLI freeze takes effect at once.
 */
export class IncidentSwitch implements IncidentControl {
  private state: IncidentState;
  private raw: string;
  private readonly listeners = new Set<(state: IncidentState) => void>();
  private readonly watcher: FSWatcher | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly options: IncidentSwitchOptions) {
    this.state = readOrFrozen(options.path);
    this.raw = JSON.stringify(this.state);
    if (this.state.frozen) options.logger.warn({ changedBy: this.state.changedBy }, 'incident freeze in force: detokenization and new captures are refused');
    try {
      const name = basename(options.path);
      this.watcher = watch(dirname(options.path), { persistent: false }, (_event, file) => {
        if (file === null || file === name) this.follow();
      });
      this.watcher.on('error', () => undefined);
    } catch (err) {
      options.logger.warn({ err }, 'incident state cannot be watched; polling only');
    }
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

  /** The admin API's way in: the same state file and audit events as the CLI, applied at once. */
  apply(action: IncidentAction, actor: Actor): IncidentState {
    applyIncidentAction(this.options.path, action, actor, this.options.audit);
    this.refresh();
    return this.state;
  }

  /** Re-reads the file; a change made by someone else is recorded as `incident.applied`. */
  refresh(): void {
    const next = readOrFrozen(this.options.path);
    const raw = JSON.stringify(next);
    if (raw === this.raw) return;
    this.raw = raw;
    this.state = next;
    this.options.audit.record({
      action: 'incident.applied',
      actor: SYSTEM_ACTOR,
      outcome: 'success',
      details: { ...incidentDetails(next), changedBy: next.changedBy },
    });
    this.options.logger.warn({ frozen: next.frozen, revokedBefore: next.revokedBefore, changedBy: next.changedBy }, 'incident state changed');
    for (const listener of this.listeners) listener(next);
  }

  /** `refresh` from a watcher or timer, where a throw would end the process. */
  private follow(): void {
    try {
      this.refresh();
    } catch (err) {
      this.options.logger.error({ err }, 'incident state could not be read');
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.watcher?.close();
    this.listeners.clear();
  }
}
