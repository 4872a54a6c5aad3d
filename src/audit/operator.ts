import type { Config } from '../config/index.js';
import { isClusterMode } from '../config/cluster.js';
import { createPool } from '../db/pool.js';
import { auditDir, resolveAuditKey } from './audit-key.js';
import { spoolAuditEvent } from './inbox.js';
import { PgAuditTrail } from './pg/trail.js';
import { auditNodeId } from './trail-backends.js';
import { FileAuditTrail } from './trail.js';
import type { AuditEvent, AuditSink } from './types.js';
import { isToneguardError } from '../errors.js';

export interface OperatorAudit extends AuditSink {
  /** `trail` when the events went straight into the chain; `inbox` when a running service will record them. */
  readonly via: 'trail' | 'inbox';
  close(): Promise<void>;
}

/**
 * The audit sink of an operator command (`keys`, `processors`): the trail itself when no service
 * holds it, else the running service's inbox, so the chain has one writer and never forks. In
 * cluster mode the command appends straight to the PostgreSQL chain: its appends are serialised
 * with every node's, so no inbox is needed. Production needs the audit key either way: a key
 * change nobody can verify is not audited.
 */
export function openOperatorAudit(config: Config): OperatorAudit {
  const { key } = resolveAuditKey(config, { create: true });
  if (isClusterMode(config)) return openClusterOperatorAudit(config, key);
  const dir = auditDir(config);
  let trail: FileAuditTrail;
  try {
    trail = new FileAuditTrail({ dir, key, rotateBytes: config.audit.rotateBytes });
  } catch (err) {
    if (!isToneguardError(err) || err.code !== 'audit_trail_busy') throw err;
    return { via: 'inbox', record: (event: AuditEvent) => spoolAuditEvent(dir, event), close: async () => undefined };
  }
  return { via: 'trail', record: (event) => trail.record(event), close: () => trail.close() };
}

/** One connection is enough: the command's events go out in a transaction or a few. */
function openClusterOperatorAudit(config: Config, key: Buffer): OperatorAudit {
  const pool = createPool({ url: config.cluster.databaseUrl!, size: 1 });
  const trail = new PgAuditTrail({ pool, key, nodeId: auditNodeId(config) });
  return {
    via: 'trail',
    record: (event) => trail.record(event),
    async close() {
      await trail.close();
      await pool.end();
    },
  };
}
