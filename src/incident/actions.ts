import type { Actor, AuditSink } from '../audit/types.js';
import { isToneguardError } from '../errors.js';
import { FROZEN_STATE, incidentDetails, readIncidentState, writeIncidentState, type IncidentState } from './state.js';

export const INCIDENT_ACTIONS = ['freeze', 'thaw', 'revoke-sessions'] as const;
export type IncidentAction = (typeof INCIDENT_ACTIONS)[number];

/** The state after `action`; revocation only ever moves the cut-off forwards. */
export function nextState(current: IncidentState, action: IncidentAction, actor: Actor, now: number): IncidentState {
  const changed = { changedAt: new Date(now).toISOString(), changedBy: `${actor.type}:${actor.id}` };
  switch (action) {
    case 'freeze':
      return { ...current, ...changed, frozen: true };
    case 'thaw':
      return { ...current, ...changed, frozen: false };
    case 'revoke-sessions':
      return { ...current, ...changed, revokedBefore: Math.max(now, current.revokedBefore ?? 0) };
  }
}

/**
 * Applies `action` to the state file and records `incident.freeze`, `incident.thaw` or
 * `incident.revoke_sessions` (the CLI and the admin API both come through here).
 */
export function applyIncidentAction(path: string, action: IncidentAction, actor: Actor, audit: AuditSink, now = Date.now()): IncidentState {
  const next = nextState(readOrFrozen(path), action, actor, now);
  writeIncidentState(path, next);
  audit.record({
    action: `incident.${action.replace('-', '_')}`,
    actor,
    outcome: 'success',
    details: incidentDetails(next),
  });
  return next;
}

/** A state file that cannot be trusted counts as frozen: the operator's action then replaces it. */
export function readOrFrozen(path: string): IncidentState {
  try {
    return readIncidentState(path);
  } catch (err) {
    if (isToneguardError(err) && err.code === 'incident_state_invalid') return FROZEN_STATE;
    throw err;
  }
}
