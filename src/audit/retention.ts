import { createReadStream, createWriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { openRecord, sealAnchor } from './chain.js';
import { listTrailFiles, loadTrailLines, writeAnchor } from './trail-files.js';

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
 * record's seq and MAC are kept in a MACed anchor the verifier continues from. Reading,
 * compressing and writing all stream through libuv's thread pool: a day's file is never gzipped
 * on the event loop that carries call audio.
 */
export async function applyRetention(options: RetentionOptions): Promise<RetentionResult> {
  const result: RetentionResult = { archived: [], deleted: [] };
  for (const file of listTrailFiles(options.dir)) {
    if (file.name === options.skip) continue;
    const ageDays = (options.now - (Date.parse(`${file.day}T00:00:00Z`) + DAY_MS)) / DAY_MS;
    if (ageDays > options.retentionDays) {
      const lines = await loadTrailLines(file.path);
      const last = lines.length > 0 ? openRecord(options.key, lines[lines.length - 1]) : undefined;
      if (last && !last.ok) break; // Never prune past a break: the evidence stays for the verifier.
      if (last?.ok) await writeAnchor(options.dir, sealAnchor(options.key, last.record.seq, last.mac, file.name));
      await unlink(file.path);
      result.deleted.push(file.name);
    } else if (ageDays > options.onlineDays && !file.archived) {
      await pipeline(createReadStream(file.path), createGzip(), createWriteStream(`${file.path}.gz`, { mode: 0o600 }));
      await unlink(file.path);
      result.archived.push(file.name);
    }
  }
  return result;
}
