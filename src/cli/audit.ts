import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { auditDir, resolveAuditKey } from '../audit/audit-key.js';
import { verifyAuditTrail } from '../audit/export.js';
import { verifyPgAuditTrail } from '../audit/pg/read.js';
import { listTrailFiles, parseTrailFileName, readAnchor } from '../audit/trail-files.js';
import { verifyChain, type VerifyResult } from '../audit/verify.js';
import { loadConfig } from '../config/index.js';
import { createPool } from '../db/pool.js';
import { usageError, type ParsedArgs } from './args.js';

/**
 * `toneguard audit verify [FILE]`: checks the hash chain of the configured trail (all files,
 * in order, from the retention anchor if older files were pruned), or with a database configured
 * (`TONEGUARD_DATABASE_URL`) the PostgreSQL chain the cluster shares, or one file.
 * Exit 0 intact, 1 broken (prints `file:line: why`, or `audit_records seq N: why`), 2 usage.
 */
export async function auditVerifyCommand(args: ParsedArgs): Promise<number> {
  if (args.positionals.length > 1 || args.flags.size > 0) throw usageError('usage: toneguard audit verify [FILE]');
  const config = loadConfig();
  const { key } = resolveAuditKey(config, { create: false });
  const databaseUrl = config.cluster.databaseUrl;
  const result =
    args.positionals.length === 1 ? verifyOneFile(key, args.positionals[0]) : databaseUrl ? await verifyDatabase(key, databaseUrl) : verifyTrail(key, auditDir(config));
  if (!result.ok) process.stderr.write(result.seq === undefined ? `${result.file}:${result.line}: ${result.reason}\n` : `${result.file} seq ${result.seq}: ${result.reason}\n`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return result.ok ? 0 : 1;
}

async function verifyDatabase(key: Buffer, url: string): Promise<VerifyResult> {
  const pool = createPool({ url, size: 1 });
  try {
    return await verifyPgAuditTrail(pool, key);
  } finally {
    await pool.end();
  }
}

function verifyTrail(key: Buffer, dir: string): VerifyResult {
  if (listTrailFiles(dir).length === 0) throw usageError(`no audit trail files in ${dir}`);
  return verifyAuditTrail(dir, key);
}

/** One file: its records and links are checked; its first link is trusted unless it starts the chain. */
function verifyOneFile(key: Buffer, file: string): VerifyResult {
  const path = resolve(file);
  if (!existsSync(path)) throw usageError(`no such file: ${file}`);
  const dir = dirname(path);
  const named = parseTrailFileName(dir, path.slice(dir.length + 1));
  const isFirst = named !== undefined && listTrailFiles(dir)[0]?.path === path;
  const anchor = isFirst ? readAnchor(dir) : undefined;
  return verifyChain(key, [path], anchor ? { anchor } : { trustFirstLink: !isFirst });
}
