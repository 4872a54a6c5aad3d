import type { AuditRecord } from '../chain.js';
import type { AuditCursor } from '../export.js';
import { ChainWalker, type VerifyResult } from '../verify.js';
import type { DatabasePool } from '../../db/pool.js';
import { ToneguardError } from '../../errors.js';

/** How the verifier names the chain's table in a failure (`file` of the result). */
export const RECORDS_TABLE = 'audit_records';
const ANCHOR_TABLE = 'audit_chain_anchor';
/** Rows per page when verifying: memory stays bounded and the event loop gets a turn between pages. */
const VERIFY_PAGE = 1_000;

type LineRow = { seq: string; line: string };

const parseLine = (row: { line: string }) => JSON.parse(row.line) as AuditRecord;

/**
 * Up to `limit` records of the PostgreSQL chain, oldest first: those following `after` (a seq,
 * or an instant), or the newest when there is no cursor. The same page `readAuditPage` gives for files.
 */
export async function readPgAuditPage(pool: DatabasePool, options: { limit: number; after?: AuditCursor }): Promise<AuditRecord[]> {
  const { limit, after } = options;
  const select = 'SELECT record::text AS line FROM audit_records';
  if (!after) {
    const { rows } = await pool.query<{ line: string }>(`${select} ORDER BY seq DESC LIMIT $1`, [limit]);
    return rows.reverse().map(parseLine);
  }
  const { rows } =
    'seq' in after
      ? await pool.query<{ line: string }>(`${select} WHERE seq > $1 ORDER BY seq LIMIT $2`, [after.seq, limit])
      : await pool.query<{ line: string }>(`${select} WHERE ts > $1 ORDER BY seq LIMIT $2`, [after.time.toISOString(), limit]);
  return rows.map(parseLine);
}

/**
 * Verifies the whole PostgreSQL chain with the file trail's walker, page by page, in one
 * read-only snapshot (so appends and retention running meanwhile cannot make it look broken):
 * from the retention anchor, or genesis; every record's MAC and link; that each row's seq is its
 * record's; and that the chain reaches the head row (records deleted from its end are found too).
 * A failure names the record's `seq`.
 */
export async function verifyPgAuditTrail(pool: DatabasePool, key: Buffer, pageSize = VERIFY_PAGE): Promise<VerifyResult> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const migrated = (await client.query<{ found: boolean }>("SELECT to_regclass('audit_chain_head') IS NOT NULL AS found")).rows[0].found;
    if (!migrated) throw new ToneguardError('schema_unmigrated', 'The database has no audit chain yet: run `toneguard db migrate`', 500);
    const anchorRow = (await client.query<{ seq: string; mac: string; pruned_through: string; anchor_mac: string }>(`SELECT seq, mac, pruned_through, anchor_mac FROM ${ANCHOR_TABLE}`)).rows[0];
    const head = (await client.query<{ next_seq: string; last_mac: string }>('SELECT next_seq, last_mac FROM audit_chain_head')).rows[0];
    const walker = ChainWalker.start(key, anchorRow ? { anchor: { seq: Number(anchorRow.seq), mac: anchorRow.mac, prunedThrough: anchorRow.pruned_through, anchorMac: anchorRow.anchor_mac } } : {});
    if (!(walker instanceof ChainWalker)) return { ok: false, file: ANCHOR_TABLE, line: 1, reason: walker.reason };
    let position = 0;
    let after = -1;
    for (;;) {
      const { rows } = await client.query<LineRow>('SELECT seq, record::text AS line FROM audit_records WHERE seq > $1 ORDER BY seq LIMIT $2', [after, pageSize]);
      for (const row of rows) {
        const seq = Number(row.seq);
        position++;
        const step = walker.check(row.line);
        if (!step.ok) return { ok: false, file: RECORDS_TABLE, line: position, seq, reason: step.reason };
        if (step.record.seq !== seq) return { ok: false, file: RECORDS_TABLE, line: position, seq, reason: `the row's seq is not its record's (${step.record.seq}): rows renumbered` };
        after = seq;
      }
      if (rows.length < pageSize) break;
    }
    const next = walker.next;
    if (next.seq !== Number(head.next_seq) || next.prev !== head.last_mac) {
      const seq = walker.lastSeq ?? -1;
      const ends = walker.lastSeq === null ? 'the chain has no records' : `the chain ends at seq ${seq}`;
      return { ok: false, file: RECORDS_TABLE, line: position, seq, reason: `${ends} but its head follows seq ${Number(head.next_seq) - 1} (records deleted from the end)` };
    }
    return { ok: true, files: 0, records: walker.records, firstSeq: walker.firstSeq, lastSeq: walker.lastSeq };
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
  }
}
