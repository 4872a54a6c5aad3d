import { loadConfig } from '../config/index.js';
import { applyIncidentAction, type IncidentAction } from '../incident/actions.js';
import { openIncidentStore } from '../incident/open.js';
import { incidentDetails } from '../incident/state.js';
import type { ParsedArgs } from './args.js';
import { audited } from './audited.js';
import { withClusterDatabase } from './database.js';

/**
 * `toneguard incident freeze|thaw|revoke-sessions`: writes the state the running service follows
 * (and reads at its next start), audited: the data dir's file, or in cluster mode the cluster's
 * PostgreSQL, which every node polls. Prints the resulting state as one JSON line.
 */
function incidentCommand(action: IncidentAction): (args: ParsedArgs) => Promise<number> {
  return async () => {
    const config = loadConfig();
    return audited(config, (audit, operator) => withClusterDatabase(config, async (database) => {
      const state = await applyIncidentAction(openIncidentStore(config.dataDir, database), action, operator, audit);
      process.stdout.write(`${JSON.stringify(incidentDetails(state))}\n`);
      return 0;
    }));
  };
}

export const incidentFreezeCommand = incidentCommand('freeze');
export const incidentThawCommand = incidentCommand('thaw');
export const incidentRevokeSessionsCommand = incidentCommand('revoke-sessions');
