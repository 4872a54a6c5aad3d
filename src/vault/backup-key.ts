import { ToneguardError } from '../errors.js';

export const BACKUP_KEY_BYTES = 32;
/** A random 32-byte key shows about 28 distinct byte values; fewer than this is a made-up key, not a random one. */
const MIN_DISTINCT_BYTES = 16;

/**
 * The backup key from `vault.backupKey` (TONEGUARD_BACKUP_KEY): exactly 32 bytes of base64,
 * refused when missing, short or visibly not random (repeated or patterned bytes).
 */
export function parseBackupKey(encoded: string | null): Buffer {
  if (!encoded) throw new ToneguardError('backup_key_missing', 'TONEGUARD_BACKUP_KEY is not set (32 random bytes, base64: `openssl rand -base64 32`)', 2);
  const text = encoded.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) throw new ToneguardError('backup_key_weak', 'TONEGUARD_BACKUP_KEY is not base64', 2);
  const key = Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
  if (key.length !== BACKUP_KEY_BYTES) {
    key.fill(0);
    throw new ToneguardError('backup_key_weak', `TONEGUARD_BACKUP_KEY must decode to ${BACKUP_KEY_BYTES} bytes`, 2);
  }
  if (new Set(key).size < MIN_DISTINCT_BYTES) {
    key.fill(0);
    throw new ToneguardError('backup_key_weak', 'TONEGUARD_BACKUP_KEY does not look random: generate one with `openssl rand -base64 32`', 2);
  }
  return key;
}
