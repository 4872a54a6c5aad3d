import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { openRecord, sealAnchor } from './chain.js';
import { listTrailFiles, readTrailLines, writeAnchor } from './trail-files.js';

const DAY_MS = 86_400_000;

export interface RetentionOptions {
  dir: string;
  key: Buffer;
  /** Files whose day ended more than this many days ago are gzip-archived. */
  onlineDays: number;
  /** Files whose day ended more than this many days ago are deleted. */
  retentionDays: number;
  now: number;
  /** The file being written: never touched. */
  skip?: string;
}

export interface RetentionResult {
  archived: string[];
  deleted: string[];
}

/**
 * Applies the retention policy (PCI DSS 10.5.1: keep 12 months, 3 immediately available).
 * Deleting the oldest files would orphan the chain, so before each deletion the last
 * record's seq and MAC are kept in a MACed anchor the verifier continues from.
 */
export function applyRetention(options: RetentionOptions): RetentionResult {
  const result: RetentionResult = { archived: [], deleted: [] };
  for (const file of listTrailFiles(options.dir)) {
    if (file.name === options.skip) continue;
    const ageDays = (options.now - (Date.parse(`${file.day}T00:00:00Z`) + DAY_MS)) / DAY_MS;
    if (ageDays > options.retentionDays) {
      const lines = readTrailLines(file.path);
      const last = lines.length > 0 ? openRecord(options.key, lines[lines.length - 1]) : undefined;
      if (last && !last.ok) break; // Never prune past a break: the evidence stays for the verifier.
      if (last?.ok) writeAnchor(options.dir, sealAnchor(options.key, last.record.seq, last.mac, file.name));
      unlinkSync(file.path);
      result.deleted.push(file.name);
    } else if (ageDays > options.onlineDays && !file.archived) {
      writeFileSync(`${file.path}.gz`, gzipSync(readFileSync(file.path)), { mode: 0o600 });
      unlinkSync(file.path);
      result.archived.push(file.name);
    }
  }
  return result;
}
