import { loadConfig } from '../config/index.js';
import { applyIncidentAction, type IncidentAction } from '../incident/actions.js';
import { incidentDetails, incidentPath } from '../incident/state.js';
import type { ParsedArgs } from './args.js';
import { audited } from './audited.js';

/**
 * `toneguard incident freeze|thaw|revoke-sessions`: writes the state file the running service
 * follows (and reads at its next start), audited. Prints the resulting state as one JSON line.
 */
function incidentCommand(action: IncidentAction): (args: ParsedArgs) => Promise<number> {
  return async () => {
    const config = loadConfig();
    return audited(config, (audit, operator) => {
      const state = applyIncidentAction(incidentPath(config.dataDir), action, operator, audit);
      process.stdout.write(`${JSON.stringify(incidentDetails(state))}\n`);
      return 0;
    });
  };
}

export const incidentFreezeCommand = incidentCommand('freeze');
export const incidentThawCommand = incidentCommand('thaw');
export const incidentRevokeSessionsCommand = incidentCommand('revoke-sessions');
