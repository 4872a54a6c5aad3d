import { startSiblingWorker } from '../workers.js';
import type { AuditRecord } from './chain.js';
import { listTrailFiles, readAnchor, readFirstTrailLine, readTrailLines, type TrailFile } from './trail-files.js';
import { verifyChain, type VerifyResult } from './verify.js';

/** Where an export starts: after a record's `seq`, or after an instant. */
export type AuditCursor = { seq: number } | { time: Date };

function isAfter(record: AuditRecord, cursor: AuditCursor): boolean {
  return 'seq' in cursor ? record.seq > cursor.seq : Date.parse(record.ts) > cursor.time.getTime();
}

const parseRecords = (path: string): AuditRecord[] => readTrailLines(path).map((line) => JSON.parse(line) as AuditRecord);

/**
 * Up to `limit` records of the trail in `dir`, oldest first: those following `after`, or the
 * newest when there is no cursor. At most one file is held in memory besides the page: without
 * a cursor, files are read newest first until the page is full; with one, the file holding the
 * cursor is found by the first record of each file, then files are read forward from there.
 */
export function readAuditPage(dir: string, options: { limit: number; after?: AuditCursor }): AuditRecord[] {
  const { limit, after } = options;
  const files = listTrailFiles(dir);
  if (!after) {
    let newest: AuditRecord[] = [];
    for (let i = files.length - 1; i >= 0 && newest.length < limit; i--) newest = parseRecords(files[i].path).concat(newest);
    return newest.slice(-limit);
  }
  const holdsCursor = (file: TrailFile) => {
    const first = readFirstTrailLine(file.path);
    return first !== undefined && !isAfter(JSON.parse(first) as AuditRecord, after);
  };
  const start = Math.max(0, files.findLastIndex(holdsCursor));
  const page: AuditRecord[] = [];
  for (let i = start; i < files.length && page.length < limit; i++) {
    for (const record of parseRecords(files[i].path)) {
      if (page.length === limit) break;
      if (isAfter(record, after)) page.push(record);
    }
  }
  return page;
}

/** The hash-chain check of the whole trail in `dir`, from the retention anchor when older files were pruned. */
export function verifyAuditTrail(dir: string, key: Buffer): VerifyResult {
  const files = listTrailFiles(dir);
  return verifyChain(key, files.map((f) => f.path), { anchor: readAnchor(dir) });
}

export type AuditExportRequest = { op: 'page'; dir: string; limit: number; after?: AuditCursor } | { op: 'verify'; dir: string; key: Uint8Array };

/**
 * Runs `readAuditPage` or `verifyAuditTrail` on a worker thread. Both read files synchronously,
 * and a whole-trail check can take seconds: on the service's own thread it would stall every
 * call's audio.
 */
export function runAuditExport(request: Extract<AuditExportRequest, { op: 'page' }>): Promise<AuditRecord[]>;
export function runAuditExport(request: Extract<AuditExportRequest, { op: 'verify' }>): Promise<VerifyResult>;
export function runAuditExport(request: AuditExportRequest): Promise<AuditRecord[] | VerifyResult> {
  const worker = startSiblingWorker(import.meta.url, 'export-worker', { workerData: request });
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`audit export worker exited (${code})`)));
  });
}
