import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Config } from '../config/index.js';
import { ToneguardError } from '../errors.js';

/** Where the audit trail lives: `audit.dir`, or `{dataDir}/audit`. */
export function auditDir(config: Config): string {
  return resolve(config.audit.dir ?? join(config.dataDir, 'audit'));
}

function devKeyPath(config: Config): string {
  return join(resolve(config.dataDir), 'keys', 'audit-hmac.key');
}

/**
 * The audit trail's HMAC key: `audit.hmacKey`, or in development a random key kept under
 * the data directory (created when `create` is set). Production never falls back.
 */
export function resolveAuditKey(config: Config, options: { create: boolean }): { key: Buffer; generated: boolean } {
  if (config.audit.hmacKey) return { key: Buffer.from(config.audit.hmacKey, 'utf8'), generated: false };
  if (config.profile === 'production') {
    throw new ToneguardError('config_missing_secret', 'audit.hmacKey (TONEGUARD_AUDIT_HMAC_KEY) is required in production', 500);
  }
  const path = devKeyPath(config);
  if (existsSync(path)) return { key: Buffer.from(readFileSync(path, 'utf8').trim(), 'base64'), generated: true };
  if (!options.create) throw new ToneguardError('audit_key_missing', `no audit HMAC key is configured and none exists at ${path}`, 500);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
  return resolveAuditKey(config, { create: false });
}
