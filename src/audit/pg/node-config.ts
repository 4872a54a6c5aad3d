import type { DatabasePool } from '../../db/pool.js';

/**
 * The configuration fingerprint a node last recorded (`config.changed`), kept in PostgreSQL by
 * node id: a node's data directory may be new after every deployment, its identity is not.
 */
export async function lastNodeFingerprint(pool: DatabasePool, nodeId: string): Promise<string | null> {
  const { rows } = await pool.query<{ fingerprint: string }>('SELECT fingerprint FROM audit_node_config WHERE node_id = $1', [nodeId]);
  return rows[0]?.fingerprint ?? null;
}

export async function saveNodeFingerprint(pool: DatabasePool, nodeId: string, fingerprint: string): Promise<void> {
  await pool.query(
    `INSERT INTO audit_node_config (node_id, fingerprint) VALUES ($1, $2)
     ON CONFLICT (node_id) DO UPDATE SET fingerprint = excluded.fingerprint, recorded_at = now()`,
    [nodeId, fingerprint],
  );
}
