import { isClusterMode } from '../config/cluster.js';
import type { Config } from '../config/index.js';
import { createPool, type DatabasePool } from '../db/pool.js';

/** Runs an operator command against the cluster's PostgreSQL in cluster mode (undefined otherwise: the data dir's files), closing the pool after. */
export async function withClusterDatabase<T>(config: Config, run: (database: DatabasePool | undefined) => Promise<T>): Promise<T> {
  if (!isClusterMode(config)) return run(undefined);
  const pool = createPool({ url: config.cluster.databaseUrl!, size: 2 });
  try {
    return await run(pool);
  } finally {
    await pool.end();
  }
}
