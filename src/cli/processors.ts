import { readFileSync } from 'node:fs';
import { loadConfig } from '../config/index.js';
import { enrollProcessor, openProcessorRegistry } from '../processors/enrollment.js';
import { stringFlag, usageError, type ParsedArgs } from './args.js';
import { audited } from './audited.js';
import { withClusterDatabase } from './database.js';

const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

function processorName(args: ParsedArgs): string {
  const name = args.positionals[0];
  if (!name) throw usageError('a processor NAME is required');
  if (!NAME.test(name)) throw usageError('NAME must be lower-case letters, digits, "-" or "_" (at most 64)');
  return name;
}

/** `toneguard processors enroll NAME --jwk FILE`: prints where the issued certificate and key are. */
export async function processorsEnrollCommand(args: ParsedArgs): Promise<number> {
  const name = processorName(args);
  const file = stringFlag(args, 'jwk', true);
  let jwks: unknown;
  try {
    jwks = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw usageError(`--jwk ${file} is not a readable JSON file`);
  }
  const config = loadConfig();
  return audited(config, (audit, operator) => withClusterDatabase(config, async (database) => {
    const enrollment = await enrollProcessor(config.dataDir, name, jwks, openProcessorRegistry(config.dataDir, database));
    const resource = { type: 'processor', id: name };
    audit.record({ action: 'processor.enrolled', actor: operator, outcome: 'success', resource, details: { certFingerprint256: enrollment.fingerprint256 } });
    process.stdout.write(`enrolled processor ${name}\n  client certificate: ${enrollment.certPath}\n  client key:         ${enrollment.keyPath}\n  CA certificate:     ${enrollment.caPath}\n`);
    process.stdout.write(`${JSON.stringify(enrollment)}\n`);
    return 0;
  }));
}

/** `toneguard processors list`: one JSON line per processor (public data only). */
export async function processorsListCommand(_args: ParsedArgs): Promise<number> {
  const config = loadConfig();
  const processors = await withClusterDatabase(config, (database) => openProcessorRegistry(config.dataDir, database).list());
  for (const p of processors) {
    const { name, certFingerprint256, certSerial, enrolledAt, revokedAt } = p;
    const kids = p.keys.map((k) => ({ kid: k.kid ?? null, use: k.use ?? null, kty: k.kty }));
    process.stdout.write(`${JSON.stringify({ name, status: revokedAt ? 'revoked' : 'active', certFingerprint256, certSerial, enrolledAt, revokedAt, keys: kids })}\n`);
  }
  return 0;
}

/** `toneguard processors revoke NAME`: takes effect on the service's next request from that processor. */
export async function processorsRevokeCommand(args: ParsedArgs): Promise<number> {
  const name = processorName(args);
  const config = loadConfig();
  return audited(config, async (audit, operator) => {
    const revoked = await withClusterDatabase(config, (database) => openProcessorRegistry(config.dataDir, database).revoke(name));
    audit.record({ action: 'processor.revoked', actor: operator, outcome: revoked ? 'success' : 'failure', resource: { type: 'processor', id: name } });
    if (!revoked) {
      process.stderr.write(`toneguard: no active processor named ${name}\n`);
      return 1;
    }
    process.stdout.write(`${JSON.stringify({ name, status: 'revoked' })}\n`);
    return 0;
  });
}
