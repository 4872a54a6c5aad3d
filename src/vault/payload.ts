import { detectBrand } from '../capture/brands.js';
import { luhnValid } from '../capture/checksums.js';
import { ToneguardError } from '../errors.js';
import type { RecordKind } from './types.js';

const FIELD_NAME = /^[a-z][a-z0-9_]{0,31}$/;
const MAX_VALUE_DIGITS = 64;
const ZERO = 0x30;
const NINE = 0x39;
const EQUALS = 0x3d;
const SEPARATOR = 0x3b;

/** What the vault may keep in clear about a record: never more than BIN and last four. */
export interface RecordFacts {
  kind: RecordKind;
  brand: string | null;
  bin: string | null;
  last4: string | null;
  /** The card expiry as [year, month], when there is one. */
  expiry: [number, number] | null;
}

function invalid(code: string, message: string): ToneguardError {
  return new ToneguardError(code, message, 422);
}

function isDigits(bytes: Uint8Array): boolean {
  if (bytes.length === 0 || bytes.length > MAX_VALUE_DIGITS) return false;
  for (const b of bytes) if (b < ZERO || b > NINE) return false;
  return true;
}

function twoDigits(bytes: Uint8Array, at: number): number {
  return (bytes[at] - ZERO) * 10 + (bytes[at + 1] - ZERO);
}

function ascii(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

/** The record kind a set of captured fields describes. */
export function kindOf(fields: ReadonlyMap<string, Uint8Array>): RecordKind {
  if (fields.has('card_number')) return 'card';
  if (fields.has('routing_number') || fields.has('account_number')) return 'bank';
  if (fields.has('ssn')) return 'identity';
  return 'generic';
}

/**
 * Checks every field (names, ASCII digits, card rules) and derives the clear facts.
 * Errors name the field and the rule, never the value.
 */
export function checkFields(kind: RecordKind, fields: ReadonlyMap<string, Uint8Array>): RecordFacts {
  if (fields.size === 0) throw invalid('invalid_values', 'No values to tokenize');
  for (const [name, bytes] of fields) {
    if (!FIELD_NAME.test(name)) throw invalid('invalid_field_name', 'A field name is not a lower-case identifier');
    if (!isDigits(bytes)) throw invalid('invalid_value', `Field ${name} must be 1 to ${MAX_VALUE_DIGITS} ASCII digits`);
  }
  const cvv = fields.get('cvv');
  if (cvv && (cvv.length < 3 || cvv.length > 4)) throw invalid('invalid_cvv', 'Field cvv must be 3 or 4 digits');
  const expected = kindOf(fields);
  if (kind !== expected) throw invalid('invalid_values', `The fields given do not describe a ${kind} record`);
  const facts: RecordFacts = { kind, brand: null, bin: null, last4: null, expiry: null };
  const pan = fields.get('card_number');
  if (pan) {
    if (pan.length < 12 || pan.length > 19 || !luhnValid(pan)) throw invalid('invalid_card_number', 'Field card_number is not a valid card number');
    facts.brand = detectBrand(pan) ?? 'unknown';
    facts.bin = ascii(pan.subarray(0, 6));
    facts.last4 = ascii(pan.subarray(pan.length - 4));
    const expiry = fields.get('expiry');
    if (expiry) {
      const month = expiry.length === 4 ? twoDigits(expiry, 0) : 0;
      if (month < 1 || month > 12) throw invalid('invalid_expiry', 'Field expiry must be MMYY');
      facts.expiry = [2000 + twoDigits(expiry, 2), month];
    }
  }
  const account = fields.get('account_number');
  if (!pan && account && account.length >= 4) facts.last4 = ascii(account.subarray(account.length - 4));
  return facts;
}

/** `name=digits;name=digits` as bytes, built without turning any value into a string. */
export function encodeFields(fields: ReadonlyMap<string, Uint8Array>): Buffer {
  let size = 0;
  for (const [name, bytes] of fields) size += name.length + bytes.length + 2;
  const out = Buffer.alloc(size);
  let at = 0;
  for (const [name, bytes] of fields) {
    at += out.write(name, at, 'ascii');
    out[at++] = EQUALS;
    out.set(bytes, at);
    at += bytes.length;
    out[at++] = SEPARATOR;
  }
  return out;
}

export function decodeFields(plain: Buffer): Record<string, string> {
  const fields: Record<string, string> = {};
  let start = 0;
  while (start < plain.length) {
    const end = plain.indexOf(SEPARATOR, start);
    const eq = plain.indexOf(EQUALS, start);
    if (end < 0 || eq < 0 || eq > end) throw new ToneguardError('decrypt_failed', 'A decrypted record is malformed', 500);
    fields[plain.toString('ascii', start, eq)] = plain.toString('ascii', eq + 1, end);
    start = end + 1;
  }
  return fields;
}
