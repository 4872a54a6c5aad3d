import { createHash } from 'node:crypto';
import type { Config } from './schema.js';

/** Settings whose values are secrets: the fingerprint records only whether each is set. */
const SECRET_KEYS = new Set(['authToken', 'keks', 'fingerprintKey', 'backupKey', 'hmacKey', 'password', 'username']);

/**
 * A SHA-256 over the configuration with secrets reduced to set/unset, so the audit trail can
 * show that the configuration changed between runs without holding any secret.
 */
export function configFingerprint(config: Config): string {
  const text = JSON.stringify(config, (key, value: unknown) => (SECRET_KEYS.has(key) ? (value ? 'set' : 'unset') : value));
  return createHash('sha256').update(text).digest('hex');
}
