/** Keys that may hold a sensitive value anywhere in a log object (compared case-insensitively). */
export const SENSITIVE_KEYS: readonly string[] = [
  'pan',
  'cvv',
  'cvc',
  'csc',
  'ssn',
  'cardnumber',
  'card_number',
  'paymentcardnumber',
  'securitycode',
  'security_code',
  'expiry',
  'expirationdate',
  'expiration_date',
  'postal_code',
  'postalcode',
  'routing_number',
  'routingnumber',
  'account_number',
  'accountnumber',
  'bankaccountnumber',
  'bankroutingnumber',
  'value',
  'values',
  'digits',
  'password',
  'secret',
  'authtoken',
  'auth_token',
  'accesstoken',
  'refreshtoken',
  'privatekey',
  'hmackey',
  'kek',
  'keks',
  'fingerprintkey',
  'authorization',
  'cookie',
  'set-cookie',
  'x-twilio-signature',
];

const SENSITIVE = new Set(SENSITIVE_KEYS);
/** Deeper than this, objects are dropped whole: log objects are shallow, and the scrubber still runs. */
const MAX_DEPTH = 8;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Whether anything at or below `value` would be removed. */
function holdsSensitiveKey(value: unknown, depth: number): boolean {
  if (depth >= MAX_DEPTH) return Array.isArray(value) || isPlainObject(value);
  if (Array.isArray(value)) return value.some((item) => holdsSensitiveKey(item, depth + 1));
  if (!isPlainObject(value)) return false;
  for (const key in value) {
    if (SENSITIVE.has(key.toLowerCase()) || holdsSensitiveKey(value[key], depth + 1)) return true;
  }
  return false;
}

function copyWithout(value: unknown, depth: number): unknown {
  if (depth >= MAX_DEPTH && (Array.isArray(value) || isPlainObject(value))) return '[too deep]';
  if (Array.isArray(value)) return value.map((item) => copyWithout(item, depth + 1));
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (!SENSITIVE.has(key.toLowerCase())) out[key] = copyWithout(value[key], depth + 1);
  }
  return out;
}

/**
 * A log object without any sensitive key, at any depth: removed, not censored. Only plain
 * objects and arrays are walked (errors have their own serializer). The input is never
 * modified, and is returned as is when it holds nothing to remove (the common case).
 */
export function withoutSensitiveKeys<T>(value: T): T {
  return (holdsSensitiveKey(value, 0) ? copyWithout(value, 0) : value) as T;
}

const camelCase = (key: string) => key.replace(/[_-]([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * pino serializers that drop each sensitive key (returning undefined removes it). pino does
 * not pass child bindings through the log formatter, but it does run serializers on them.
 */
export function dropSensitiveSerializers(): Record<string, () => undefined> {
  const names = new Set(SENSITIVE_KEYS.flatMap((key) => [key, camelCase(key)]));
  return Object.fromEntries([...names].map((name) => [name, () => undefined]));
}
