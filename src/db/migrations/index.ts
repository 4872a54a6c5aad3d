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

export const MIGRATIONS: readonly Migration[] = [];
