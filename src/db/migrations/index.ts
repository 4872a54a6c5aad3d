import { VAULT_MIGRATION } from './0001-vault.js';
import { PROCESSORS_TELEPHONY_INCIDENT_MIGRATION } from './0002-processors-telephony-incident.js';
import { AUDIT_MIGRATION } from './0003-audit.js';

/**
 * The PostgreSQL schema, as numbered migrations applied in order by `toneguard db migrate`. A
 * migration, once released, never changes: a change is a new migration with the next number.
 */
export interface Migration {
  version: number;
  name: string;
  /** Runs in one transaction with the bookkeeping row. */
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [VAULT_MIGRATION, PROCESSORS_TELEPHONY_INCIDENT_MIGRATION, AUDIT_MIGRATION];
