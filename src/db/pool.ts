import pg from 'pg';
import type { Logger } from '../audit/logger.js';

export type DatabasePool = pg.Pool;

export interface PoolOptions {
  url: string;
  size: number;
  /** Told of errors on idle connections (a server restart): the pool replaces them by itself. */
  logger?: Pick<Logger, 'warn'>;
}

/**
 * The node's PostgreSQL connections. An idle connection that the server drops (a restart, a
 * failover) is discarded and a new one opened on the next query; the error is logged, never thrown
 * into the process.
 */
export function createPool(options: PoolOptions): DatabasePool {
  const pool = new pg.Pool({ connectionString: options.url, max: options.size, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000 });
  pool.on('error', (err) => options.logger?.warn({ code: (err as { code?: string }).code ?? 'unknown' }, 'an idle PostgreSQL connection failed; it will be replaced'));
  // A checked-out connection has no pool listener: one lost between two queries would emit an
  // unhandled `error` and end the process. Its next query fails instead, and the caller sees that.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** Runs `work` in one transaction on one connection, at the given isolation level. */
export async function inTransaction<T>(pool: DatabasePool, work: (client: pg.PoolClient) => Promise<T>, isolation: 'READ COMMITTED' | 'SERIALIZABLE' = 'READ COMMITTED'): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(`BEGIN ISOLATION LEVEL ${isolation}`);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
