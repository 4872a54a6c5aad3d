import type { AuditRecord } from './chain.js';
import { auditDir, resolveAuditKey } from './audit-key.js';
import { runAuditExport, type AuditCursor } from './export.js';
import { readPgAuditPage, verifyPgAuditTrail } from './pg/read.js';
import type { VerifyResult } from './verify.js';
import { isClusterMode } from '../config/cluster.js';
import type { Config } from '../config/index.js';
import { createPool } from '../db/pool.js';

/** What the auditor routes read the chain through, wherever it is kept. */
export interface AuditReader {
  /** Up to `limit` records, oldest first: those following `after`, or the newest. */
  page(options: { limit: number; after?: AuditCursor }): Promise<AuditRecord[]>;
  verify(): Promise<VerifyResult>;
  close(): Promise<void>;
}

/**
 * The files, read on a worker thread (reading and checking them is synchronous); or in cluster
 * mode the PostgreSQL chain, read in pages (a query per page, the check between them), on
 * connections of its own so an export never waits behind the trail's appends.
 */
export function openAuditReader(config: Config): AuditReader {
  const key = () => resolveAuditKey(config, { create: false }).key;
  if (isClusterMode(config)) {
    const pool = createPool({ url: config.cluster.databaseUrl!, size: 2 });
    return { page: (options) => readPgAuditPage(pool, options), verify: () => verifyPgAuditTrail(pool, key()), close: () => pool.end() };
  }
  const dir = auditDir(config);
  return {
    page: ({ limit, after }) => runAuditExport({ op: 'page', dir, limit, ...(after ? { after } : {}) }),
    verify: () => runAuditExport({ op: 'verify', dir, key: key() }),
    close: async () => undefined,
  };
}
