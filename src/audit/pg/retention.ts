import { openRecord, sealAnchor } from '../chain.js';
import { inTransaction, type DatabasePool } from '../../db/pool.js';

const DAY_MS = 86_400_000;
/** Serialises retention runs across nodes (each node runs it on its own timer): any constant works. */
const RETENTION_LOCK = 0x74676172;
/** Records deleted per transaction: a year's backlog is pruned in many short transactions. */
const DELETE_BATCH = 10_000;

export interface PgRetentionOptions {
  pool: DatabasePool;
  key: Buffer;
  /** Records older than this many days are deleted. */
  retentionDays: number;
  now: number;
  batchSize?: number;
}

/**
 * Applies `audit.retentionDays` to the PostgreSQL chain: deletes its oldest records, the prefix of
 * the chain before the first record younger than the limit, and keeps the last deleted record's
 * seq and MAC in the MACed anchor row the verifier continues from (as `sealAnchor` does for
 * files). It never prunes past a record that does not verify: that evidence stays for the
 * verifier. There is no archive step (`audit.onlineDays`): every record stays queryable until
 * deleted; archive with PostgreSQL's own tools if needed. Returns how many records were deleted.
 */
export async function applyPgRetention(options: PgRetentionOptions): Promise<number> {
  const cutoff = new Date(options.now - options.retentionDays * DAY_MS).toISOString();
  const batchSize = options.batchSize ?? DELETE_BATCH;
  let deleted = 0;
  for (;;) {
    const removed = await inTransaction(options.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [RETENTION_LOCK]);
      const { rows } = await client.query<{ seq: string; line: string }>(
        `SELECT seq, record::text AS line FROM audit_records WHERE seq = (
           SELECT max(seq) FROM (
             SELECT seq FROM audit_records
             WHERE seq < COALESCE((SELECT min(seq) FROM audit_records WHERE ts >= $1), (SELECT next_seq FROM audit_chain_head))
             ORDER BY seq LIMIT $2
           ) expired
         )`,
        [cutoff, batchSize],
      );
      const last = rows[0];
      if (!last) return 0;
      const opened = openRecord(options.key, last.line);
      if (!opened.ok) return 0;
      const anchor = sealAnchor(options.key, opened.record.seq, opened.mac, `seq ${opened.record.seq} (${opened.record.ts})`);
      await client.query(
        `INSERT INTO audit_chain_anchor (seq, mac, pruned_through, anchor_mac) VALUES ($1, $2, $3, $4)
         ON CONFLICT (singleton) DO UPDATE SET seq = excluded.seq, mac = excluded.mac, pruned_through = excluded.pruned_through, anchor_mac = excluded.anchor_mac`,
        [anchor.seq, anchor.mac, anchor.prunedThrough, anchor.anchorMac],
      );
      return (await client.query('DELETE FROM audit_records WHERE seq <= $1', [last.seq])).rowCount ?? 0;
    });
    deleted += removed;
    if (removed < batchSize) return deleted;
  }
}
