import type { DatabasePool } from '../db/pool.js';
import { inTransaction } from '../db/pool.js';
import { NORMAL_STATE, type IncidentState } from './state.js';
import type { IncidentStore } from './store.js';

const COLUMNS = 'frozen, revoked_before::float8 AS "revokedBefore", changed_at AS "changedAt", changed_by AS "changedBy"';

/**
 * Cluster mode's incident state: the one row of table `incident_state` (migration 2). A freeze on
 * any node, or by the CLI, reaches every node at its next poll (`incident.pollMs`). No row means
 * never changed: normal.
 */
export class PostgresIncidentStore implements IncidentStore {
  constructor(private readonly pool: DatabasePool) {}

  async read(): Promise<IncidentState> {
    const { rows } = await this.pool.query<IncidentState>(`SELECT ${COLUMNS} FROM incident_state`);
    return rows[0] ?? NORMAL_STATE;
  }

  async update(change: (current: IncidentState) => IncidentState): Promise<IncidentState> {
    return inTransaction(this.pool, async (client) => {
      // The row lock makes concurrent actions (two operators, two nodes) apply one after the other.
      const { rows } = await client.query<IncidentState>(`SELECT ${COLUMNS} FROM incident_state FOR UPDATE`);
      const next = change(rows[0] ?? NORMAL_STATE);
      await client.query(
        `INSERT INTO incident_state (singleton, frozen, revoked_before, changed_at, changed_by) VALUES (true, $1, $2, $3, $4)
         ON CONFLICT (singleton) DO UPDATE SET frozen = EXCLUDED.frozen, revoked_before = EXCLUDED.revoked_before,
           changed_at = EXCLUDED.changed_at, changed_by = EXCLUDED.changed_by`,
        [next.frozen, next.revokedBefore, next.changedAt, next.changedBy],
      );
      return next;
    });
  }

  /** PostgreSQL tells nothing by itself here: the switch's poll follows the row. */
  watch(): () => void {
    return () => undefined;
  }
}
