import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { AuditTrail, TrailOutage } from './audit-trail.js';
import { auditDir } from './audit-key.js';
import type { Logger, ScrubListener } from './logger.js';
import { lastNodeFingerprint, saveNodeFingerprint } from './pg/node-config.js';
import { applyPgRetention } from './pg/retention.js';
import { PgAuditTrail } from './pg/trail.js';
import { applyRetention } from './retention.js';
import { FileAuditTrail } from './trail.js';
import { SYSTEM_ACTOR } from './types.js';
import { isClusterMode } from '../config/cluster.js';
import type { Config } from '../config/index.js';
import { createPool, type DatabasePool } from '../db/pool.js';

/** A retention run's outcome, as recorded in `audit.retention`. */
export interface RetentionRun {
  archived: number;
  deleted: number;
}

/** Where the chain is kept, and what that place means for the chores around it. */
export interface TrailBackend {
  trail: AuditTrail;
  /** Records `config.changed` when `fingerprint` differs from the last one this node recorded. */
  recordConfigChange(fingerprint: string): void;
  /** Applies `audit.retentionDays` (and, for files, `audit.onlineDays`). */
  retain(now: number): Promise<RetentionRun>;
  /** Closes the trail, and the connections it wrote through. */
  close(): Promise<void>;
}

export interface TrailHooks {
  onScrub?: ScrubListener;
  onWriteFailed?: (code: string, first: boolean) => void;
  onRecovered?: (outage: TrailOutage) => void;
}

/** The id a record names as its writer: the node's, or for an operator command on a host without one, the host's. */
export const auditNodeId = (config: Config): string => config.cluster.nodeId ?? hostname();

/** The PostgreSQL chain in cluster mode, else the files under the data directory. */
export function openTrailBackend(config: Config, key: Buffer, hooks: TrailHooks & { logger: Pick<Logger, 'warn' | 'error'> }): TrailBackend {
  return isClusterMode(config) ? pgBackend(config, key, hooks) : fileBackend(config, key, hooks);
}

/** The file trail: `config.fingerprint` and the archive and delete steps of retention live in its directory. */
function fileBackend(config: Config, key: Buffer, hooks: TrailHooks): TrailBackend {
  const trail = new FileAuditTrail({ dir: auditDir(config), key, rotateBytes: config.audit.rotateBytes, ...hooks });
  return {
    trail,
    recordConfigChange(fingerprint) {
      const path = join(trail.dir, 'config.fingerprint');
      const previous = existsSync(path) ? readFileSync(path, 'utf8').trim() : null;
      if (previous === fingerprint) return;
      trail.record({ action: 'config.changed', actor: SYSTEM_ACTOR, outcome: 'success', details: { previous, current: fingerprint } });
      writeFileSync(path, fingerprint, { mode: 0o600 });
    },
    async retain(now) {
      const { archived, deleted } = await applyRetention({ dir: trail.dir, key, onlineDays: config.audit.onlineDays, retentionDays: config.audit.retentionDays, now, skip: trail.currentFile });
      return { archived: archived.length, deleted: deleted.length };
    },
    close: () => trail.close(),
  };
}

/** How long a node waits before trying again to compare its configuration fingerprint (PostgreSQL unreachable at start). */
const FINGERPRINT_RETRY_MS = 5_000;

/** The cluster's chain in PostgreSQL: the fingerprint is kept per node id, retention deletes records (no archive step). */
function pgBackend(config: Config, key: Buffer, hooks: TrailHooks & { logger: Pick<Logger, 'warn' | 'error'> }): TrailBackend {
  const pool: DatabasePool = createPool({ url: config.cluster.databaseUrl!, size: 2, logger: hooks.logger });
  const nodeId = auditNodeId(config);
  const trail = new PgAuditTrail({ pool, key, nodeId, ...hooks });
  let retry: NodeJS.Timeout | undefined;
  let comparing: Promise<void> | undefined;
  let closed = false;
  /** Recorded, then saved once durable: a crash between the two records the change twice rather than never. */
  const compare = async (fingerprint: string) => {
    const previous = await lastNodeFingerprint(pool, nodeId);
    if (previous === fingerprint) return;
    await trail.record({ action: 'config.changed', actor: SYSTEM_ACTOR, outcome: 'success', details: { previous, current: fingerprint } });
    await saveNodeFingerprint(pool, nodeId, fingerprint);
  };
  return {
    trail,
    recordConfigChange(fingerprint) {
      const attempt = () => {
        comparing = compare(fingerprint).catch((err: unknown) => {
          hooks.logger.warn({ code: (err as { code?: string }).code ?? 'unknown' }, 'could not compare the configuration with the one this node last recorded; trying again');
          if (!closed) retry = setTimeout(attempt, FINGERPRINT_RETRY_MS).unref();
        });
      };
      attempt();
    },
    async retain(now) {
      return { archived: 0, deleted: await applyPgRetention({ pool, key, retentionDays: config.audit.retentionDays, now }) };
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      // The trail first: a comparison waiting on a record that cannot be written then gives up.
      await trail.close();
      await comparing;
      await pool.end();
    },
  };
}
