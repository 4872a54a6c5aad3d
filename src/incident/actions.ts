import type { Actor, AuditSink } from '../audit/types.js';
import { incidentDetails, type IncidentState } from './state.js';
import type { IncidentStore } from './store.js';

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
 * Applies `action` to the kept state and records `incident.freeze`, `incident.thaw` or
 * `incident.revoke_sessions` (the CLI and the admin API both come through here).
 */
export async function applyIncidentAction(store: IncidentStore, action: IncidentAction, actor: Actor, audit: AuditSink, now = Date.now()): Promise<IncidentState> {
  const next = await store.update((current) => nextState(current, action, actor, now));
  audit.record({
    action: `incident.${action.replace('-', '_')}`,
    actor,
    outcome: 'success',
    details: incidentDetails(next),
  });
  return next;
}
