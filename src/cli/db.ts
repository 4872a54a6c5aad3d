import { loadConfig } from '../config/index.js';
import { migrate } from '../db/migrate.js';
import { MIGRATIONS } from '../db/migrations/index.js';
import { createPool } from '../db/pool.js';
import { stringFlag, usageError, type ParsedArgs } from './args.js';

/**
 * `toneguard db migrate [--url URL]`: brings the cluster's PostgreSQL schema to this build's
 * version (`cluster.databaseUrl`, TONEGUARD_DATABASE_URL, unless `--url`). Idempotent, and safe to
 * run from several hosts at once; refuses a schema newer than this build. Prints each migration
 * it applied, then one JSON line.
 */
export async function dbMigrateCommand(args: ParsedArgs): Promise<number> {
  const url = stringFlag(args, 'url') ?? loadConfig().cluster.databaseUrl;
  if (!url) throw usageError('no database: set TONEGUARD_DATABASE_URL (cluster.databaseUrl) or give --url');
  const pool = createPool({ url, size: 1 });
  try {
    const report = await migrate(pool);
    const names = new Map(MIGRATIONS.map((m) => [m.version, m.name]));
    for (const version of report.applied) process.stdout.write(`applied migration ${version} (${names.get(version)})\n`);
    if (report.applied.length === 0) process.stdout.write(`schema already at version ${report.version}: nothing to apply\n`);
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return 0;
  } finally {
    await pool.end();
  }
}
