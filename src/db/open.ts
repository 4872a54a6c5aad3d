import type { Logger } from '../audit/logger.js';
import type { Config } from '../config/index.js';
import { checkSchema } from './migrate.js';
import { createPool, type DatabasePool } from './pool.js';

/**
 * A cluster node's PostgreSQL pool, once the schema is known to be this build's: a node refuses to
 * start on an unmigrated (`schema_unmigrated`) or newer (`schema_newer`) schema.
 */
export async function openClusterDatabase(config: Pick<Config, 'cluster'>, logger?: Pick<Logger, 'warn'>): Promise<DatabasePool> {
  const pool = createPool({ url: config.cluster.databaseUrl!, size: config.cluster.databasePoolSize, ...(logger ? { logger } : {}) });
  try {
    await checkSchema(pool);
    return pool;
  } catch (err) {
    await pool.end();
    throw err;
  }
}
