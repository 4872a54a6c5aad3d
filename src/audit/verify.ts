import { basename } from 'node:path';
import { GENESIS, anchorValid, openRecord, type AuditRecord, type ChainAnchor } from './chain.js';
import { readTrailLines } from './trail-files.js';

export type VerifyResult =
  | { ok: true; files: number; records: number; firstSeq: number | null; lastSeq: number | null }
  /** `seq` names the broken record when the chain is kept in PostgreSQL (`file` is then the table). */
  | { ok: false; file: string; line: number; reason: string; seq?: number };

export interface VerifyOptions {
  /** Present when retention pruned the oldest files: the chain must continue from it. */
  anchor?: ChainAnchor;
  /**
   * Verifying a lone file cut from a longer trail: accept its first record's link to the
   * file before. Its own MAC and every later link are still checked.
   */
  trustFirstLink?: boolean;
}

export type WalkStep = { ok: true; record: AuditRecord; mac: string } | { ok: false; reason: string };

/**
 * Walks a chain one sealed line at a time, in order: each line's own MAC, then its seq and prev
 * against the line before. Wherever the lines come from (files, PostgreSQL pages), the check is
 * this one, and it holds only the link it expects next.
 */
export class ChainWalker {
  private expectedSeq: number | undefined;
  private expectedPrev: string | undefined;
  records = 0;
  firstSeq: number | null = null;

  private constructor(
    private readonly key: Buffer,
    start: { seq: number; prev: string } | undefined,
  ) {
    this.expectedSeq = start?.seq;
    this.expectedPrev = start?.prev;
  }

  /** Starts at genesis, at a valid retention anchor, or (`trustFirstLink`) at whatever comes first. */
  static start(key: Buffer, options: VerifyOptions = {}): ChainWalker | { reason: string } {
    if (options.anchor) {
      if (!anchorValid(key, options.anchor)) return { reason: 'anchor MAC mismatch' };
      return new ChainWalker(key, { seq: options.anchor.seq + 1, prev: options.anchor.mac });
    }
    return new ChainWalker(key, options.trustFirstLink ? undefined : { seq: 0, prev: GENESIS });
  }

  check(line: string): WalkStep {
    const checked = openRecord(this.key, line);
    if (!checked.ok) return checked;
    const { record, mac } = checked;
    if (this.expectedSeq !== undefined && record.seq !== this.expectedSeq) {
      return { ok: false, reason: `sequence ${record.seq} where ${this.expectedSeq} was expected (line deleted, inserted or moved)` };
    }
    if (this.expectedPrev !== undefined && record.prev !== this.expectedPrev) {
      return { ok: false, reason: 'does not link to the record before it (line deleted, inserted or moved)' };
    }
    this.firstSeq ??= record.seq;
    this.expectedSeq = record.seq + 1;
    this.expectedPrev = mac;
    this.records++;
    return checked;
  }

  /** The seq and MAC the next record must carry (undefined before the first when the first link is trusted). */
  get next(): { seq: number | undefined; prev: string | undefined } {
    return { seq: this.expectedSeq, prev: this.expectedPrev };
  }

  get lastSeq(): number | null {
    return this.expectedSeq === undefined || this.records === 0 ? null : this.expectedSeq - 1;
  }
}

/**
 * Walks the chain through `paths` in order and reports the first line that breaks it:
 * a MAC that does not match its content (edited), or a seq/prev that does not follow the
 * record before (deleted, inserted or reordered lines, or files).
 */
export function verifyChain(key: Buffer, paths: readonly string[], options: VerifyOptions = {}): VerifyResult {
  const walker = ChainWalker.start(key, options);
  if (!(walker instanceof ChainWalker)) return { ok: false, file: 'anchor.json', line: 1, reason: walker.reason };
  for (const path of paths) {
    const file = basename(path);
    let lines: string[];
    try {
      lines = readTrailLines(path);
    } catch (err) {
      return { ok: false, file, line: 0, reason: `unreadable: ${(err as Error).message}` };
    }
    for (let i = 0; i < lines.length; i++) {
      const step = walker.check(lines[i]);
      if (!step.ok) return { ok: false, file, line: i + 1, reason: step.reason };
    }
  }
  return { ok: true, files: paths.length, records: walker.records, firstSeq: walker.firstSeq, lastSeq: walker.lastSeq };
}
