/**
 * Whether a configured secret is real: not a template placeholder, in the documented encoding,
 * long enough, and not an obviously non-random byte pattern. Each check answers with the reason
 * a value fails (for a message that names the setting), never with the value itself.
 */

/** The least key material the KEKs, the fingerprint key and the audit key may hold, decoded. */
export const MIN_KEY_BYTES = 32;

/** Words and shapes that mark a value someone meant to replace (template sentences, `<...>`, `${...}`, `xxxx`). */
const PLACEHOLDER_PATTERNS: readonly RegExp[] = [
  /^\s*(set|change|replace|insert|enter|put|your|todo|fixme|tbd)\b/i,
  /\b(placeholder|example|changeme|change[-_ ]?me|replace[-_ ]?me|secret[-_ ]?here|dummy|not[-_ ]?a[-_ ]?secret)\b/i,
  /^\s*<.*>\s*$/,
  /^\s*\$\{?[A-Z_][A-Z0-9_]*\}?\s*$/,
  /^\s*(x+|\*+|\.+|-+|0+)\s*$/i,
  /^\s*(secret|password|passwd|token|key|test|default|admin)\s*$/i,
];

export function isPlaceholder(value: string): boolean {
  return PLACEHOLDER_PATTERNS.some((pattern) => pattern.test(value));
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const HEX = /^(?:[0-9a-fA-F]{2})+$/;

/**
 * The bytes a key written as base64, base64url or hex stands for; undefined when it is none of
 * them. Strict, unlike `Buffer.from(text, 'base64')`, which skips what it cannot read and so turns
 * an English sentence into "key bytes".
 */
export function decodeKeyText(text: string, encodings: readonly ('base64' | 'hex')[] = ['base64']): Buffer | undefined {
  if (encodings.includes('hex') && HEX.test(text)) return Buffer.from(text, 'hex');
  if (!encodings.includes('base64')) return undefined;
  if (BASE64.test(text)) return Buffer.from(text, 'base64');
  if (BASE64URL.test(text)) return Buffer.from(text, 'base64url');
  return undefined;
}

/**
 * Why `bytes` cannot be random key material, or null. Catches what people type instead of
 * generating: one repeated byte, a short block repeated, a counting sequence, or too few distinct
 * byte values (32 random bytes hold about 30 distinct ones; fewer than half is never chance).
 */
export function lowEntropyReason(bytes: Uint8Array): string | null {
  if (bytes.length === 0) return 'is empty';
  if (bytes.every((b) => b === bytes[0])) return 'is one repeated byte';
  const period = shortestPeriod(bytes);
  if (period <= bytes.length / 2) return 'repeats a short pattern';
  const step = (bytes[1]! - bytes[0]! + 256) % 256;
  if (bytes.every((b, i) => i === 0 || (b - bytes[i - 1]! + 256) % 256 === step)) return 'is a counting sequence';
  const distinct = new Set(bytes).size;
  if (distinct < Math.min(16, Math.ceil(bytes.length / 2))) return 'has too few distinct bytes to be random';
  return null;
}

function shortestPeriod(bytes: Uint8Array): number {
  for (let period = 1; period <= bytes.length / 2; period++) {
    if (bytes.every((b, i) => i < period || b === bytes[i - period])) return period;
  }
  return bytes.length;
}

/**
 * Why a key written as text is not at least `MIN_KEY_BYTES` of random material, or null. Only a
 * value that fails its encoding is called a placeholder, so a random key never is by chance.
 */
export function weakKeyReason(text: string, encodings: readonly ('base64' | 'hex')[] = ['base64']): string | null {
  const bytes = decodeKeyText(text.trim(), encodings);
  if (!bytes) return isPlaceholder(text) ? 'is a placeholder, not a key' : `is not ${encodings.join(' or ')}`;
  if (bytes.length < MIN_KEY_BYTES) return `decodes to fewer than ${MIN_KEY_BYTES} bytes`;
  return lowEntropyReason(bytes);
}

/** Why text of a fixed documented form (a Twilio SID or token) is not a real one, or null. */
export function weakFormattedSecretReason(text: string, form: RegExp, formName: string): string | null {
  const match = form.exec(text);
  if (!match) return isPlaceholder(text) ? 'is a placeholder' : `is not ${formName}`;
  return lowEntropyReason(Buffer.from(match[1]!, 'hex'));
}
