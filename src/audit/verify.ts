import { basename } from 'node:path';
import { GENESIS, anchorValid, openRecord, type ChainAnchor } from './chain.js';
import { readTrailLines } from './trail-files.js';

export type VerifyResult =
  | { ok: true; files: number; records: number; firstSeq: number | null; lastSeq: number | null }
  | { ok: false; file: string; line: number; reason: string };

export interface VerifyOptions {
  /** Present when retention pruned the oldest files: the chain must continue from it. */
  anchor?: ChainAnchor;
  /**
   * Verifying a lone file cut from a longer trail: accept its first record's link to the
   * file before. Its own MAC and every later link are still checked.
   */
  trustFirstLink?: boolean;
}

/**
 * Walks the chain through `paths` in order and reports the first line that breaks it:
 * a MAC that does not match its content (edited), or a seq/prev that does not follow the
 * record before (deleted, inserted or reordered lines, or files).
 */
export function verifyChain(key: Buffer, paths: readonly string[], options: VerifyOptions = {}): VerifyResult {
  let expectedSeq: number | undefined;
  let expectedPrev: string | undefined;
  if (options.anchor) {
    if (!anchorValid(key, options.anchor)) return { ok: false, file: 'anchor.json', line: 1, reason: 'anchor MAC mismatch' };
    expectedSeq = options.anchor.seq + 1;
    expectedPrev = options.anchor.mac;
  } else if (!options.trustFirstLink) {
    expectedSeq = 0;
    expectedPrev = GENESIS;
  }
  let records = 0;
  let firstSeq: number | null = null;
  for (const path of paths) {
    const file = basename(path);
    let lines: string[];
    try {
      lines = readTrailLines(path);
    } catch (err) {
      return { ok: false, file, line: 0, reason: `unreadable: ${(err as Error).message}` };
    }
    for (let i = 0; i < lines.length; i++) {
      const where = { file, line: i + 1 };
      const checked = openRecord(key, lines[i]);
      if (!checked.ok) return { ok: false, ...where, reason: checked.reason };
      const { record, mac } = checked;
      if (expectedSeq !== undefined && record.seq !== expectedSeq) {
        return { ok: false, ...where, reason: `sequence ${record.seq} where ${expectedSeq} was expected (line deleted, inserted or moved)` };
      }
      if (expectedPrev !== undefined && record.prev !== expectedPrev) {
        return { ok: false, ...where, reason: 'does not link to the record before it (line deleted, inserted or moved)' };
      }
      firstSeq ??= record.seq;
      expectedSeq = record.seq + 1;
      expectedPrev = mac;
      records++;
    }
  }
  return { ok: true, files: paths.length, records, firstSeq, lastSeq: expectedSeq === undefined || records === 0 ? null : expectedSeq - 1 };
}
