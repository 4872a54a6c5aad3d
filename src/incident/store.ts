import { watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { isToneguardError } from '../errors.js';
import { FROZEN_STATE, readIncidentState, writeIncidentState, type IncidentState } from './state.js';

/** Where the incident state is kept: the data dir's file (single node) or the cluster's PostgreSQL. */
export interface IncidentStore {
  /** The state now; frozen when what is kept cannot be trusted (fail closed). */
  read(): Promise<IncidentState>;
  /** Applies `change` to the current state and keeps the result, as one step. */
  update(change: (current: IncidentState) => IncidentState): Promise<IncidentState>;
  /** Calls `changed` as soon as the state may have changed, where the store can tell (a file watch); the switch polls besides. Returns a stop function. */
  watch(changed: () => void): () => void;
}

/** A state file that cannot be trusted counts as frozen: the operator's next action then replaces it. */
export function readOrFrozen(path: string): IncidentState {
  try {
    return readIncidentState(path);
  } catch (err) {
    if (isToneguardError(err) && err.code === 'incident_state_invalid') return FROZEN_STATE;
    throw err;
  }
}

/** `{dataDir}/incident.json`, written by the CLI and the admin API, followed by the running service. */
export class FileIncidentStore implements IncidentStore {
  constructor(readonly path: string) {}

  async read(): Promise<IncidentState> {
    return readOrFrozen(this.path);
  }

  async update(change: (current: IncidentState) => IncidentState): Promise<IncidentState> {
    const next = change(readOrFrozen(this.path));
    writeIncidentState(this.path, next);
    return next;
  }

  watch(changed: () => void): () => void {
    const name = basename(this.path);
    const watcher = watch(dirname(this.path), { persistent: false }, (_event, file) => {
      if (file === null || file === name) changed();
    });
    watcher.on('error', () => undefined);
    return () => watcher.close();
  }
}
