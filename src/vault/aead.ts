import { createCipheriv, createDecipheriv } from 'node:crypto';
import { ToneguardError } from '../errors.js';
import { randomBytes } from './random.js';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** AES-256-GCM with a random 96-bit IV; the result is iv ‖ ciphertext ‖ tag. */
export function seal(key: Buffer, plaintext: Uint8Array, aad: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = cipher.update(plaintext);
  cipher.final();
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

/** Opens what `seal` produced. Any tampering, wrong key or wrong AAD is `decrypt_failed`, never garbage. */
export function open(key: Buffer, sealed: Uint8Array, aad: string): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw decryptFailed();
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    const plain = decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES));
    decipher.final();
    return plain;
  } catch (err) {
    throw decryptFailed(err);
  }
}

/** The one error for a ciphertext that does not open, wherever it was opened (here or in an HSM). */
export function decryptFailed(cause?: unknown): ToneguardError {
  return new ToneguardError('decrypt_failed', 'A ciphertext could not be decrypted: it is corrupt or bound to another record', 500, { cause });
}
