import type { DatabasePool } from '../db/pool.js';
import { PostgresIncidentStore } from './postgres-store.js';
import { incidentPath } from './state.js';
import { FileIncidentStore, type IncidentStore } from './store.js';

/** The cluster's incident row when there is a cluster database, else the data dir's file. */
export function openIncidentStore(dataDir: string, database?: DatabasePool): IncidentStore {
  return database ? new PostgresIncidentStore(database) : new FileIncidentStore(incidentPath(dataDir));
}
