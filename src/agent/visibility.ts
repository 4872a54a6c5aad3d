import type { CallRecord } from '../state/calls.js';
import type { Principal, Role } from './auth.js';

/** Who may watch or act on a call: supervisors on any, agents only on calls bound to them. */
export function maySeeCall(principal: Principal, call: CallRecord | undefined): boolean {
  if (principal.roles.includes('supervisor')) return true;
  return principal.roles.includes('agent') && call !== undefined && call.agentId === principal.sub;
}

/** Roles that watch captures at all; the others (admin, processor, auditor) get no capture data. */
export const WATCHER_ROLES: readonly Role[] = ['agent', 'supervisor'];

export function watchesCaptures(principal: Principal): boolean {
  return principal.roles.some((role) => WATCHER_ROLES.includes(role));
}
