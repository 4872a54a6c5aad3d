import { randomInt } from 'node:crypto';
import { luhnValid } from '../capture/checksums.js';
import { randomBytes } from './random.js';

export const TOKEN_PREFIX = 'tok_';
/** 144 bits: comfortably above the 128 the design asks for, and a whole number of base64 characters. */
const TOKEN_RANDOM_BYTES = 18;
export const TOKEN_PATTERN = /^tok_[A-Za-z0-9_-]{24}$/;

/** A random token: no mathematical link to any value. */
export function newToken(): string {
  return TOKEN_PREFIX + randomBytes(TOKEN_RANDOM_BYTES).toString('base64url');
}

/**
 * A PAN-shaped alias: same length and last four digits, random digits before them, and a
 * Luhn check that deliberately fails so it can never pass for a real card number.
 */
export function cardAlias(pan: Uint8Array): string {
  const digits = Array.from({ length: pan.length - 4 }, () => randomInt(10));
  const last4 = String.fromCharCode(...pan.subarray(pan.length - 4));
  let alias = digits.join('') + last4;
  if (luhnValid(alias)) {
    // Changing any single digit changes the Luhn sum, so one bump always breaks it.
    digits[0] = (digits[0] + 1) % 10;
    alias = digits.join('') + last4;
  }
  return alias;
}
