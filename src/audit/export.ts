import type { AuditRecord } from './chain.js';
import { listTrailFiles, readAnchor, readTrailLines } from './trail-files.js';
import { verifyChain, type VerifyResult } from './verify.js';

/** Where an export starts: after a record's `seq`, or after an instant. */
export type AuditCursor = { seq: number } | { time: Date };

function isAfter(record: AuditRecord, cursor: AuditCursor): boolean {
  return 'seq' in cursor ? record.seq > cursor.seq : Date.parse(record.ts) > cursor.time.getTime();
}

/**
 * Up to `limit` records of the trail in `dir`, oldest first: those following `after`, or the
 * newest when there is no cursor. Files are read newest first and only as far back as needed,
 * so paging near the head of a long trail stays cheap.
 */
export function readAuditPage(dir: string, options: { limit: number; after?: AuditCursor }): AuditRecord[] {
  const { limit, after } = options;
  const files = listTrailFiles(dir);
  let collected: AuditRecord[] = [];
  for (let i = files.length - 1; i >= 0; i--) {
    const records = readTrailLines(files[i].path).map((line) => JSON.parse(line) as AuditRecord);
    collected = records.concat(collected);
    const first = records[0];
    if (after ? first !== undefined && !isAfter(first, after) : collected.length >= limit) break;
  }
  return after ? collected.filter((r) => isAfter(r, after)).slice(0, limit) : collected.slice(-limit);
}

/** The hash-chain check of the whole trail in `dir`, from the retention anchor when older files were pruned. */
export function verifyAuditTrail(dir: string, key: Buffer): VerifyResult {
  const files = listTrailFiles(dir);
  return verifyChain(key, files.map((f) => f.path), { anchor: readAnchor(dir) });
}
