import type { DigitsFieldConfig } from '../config/schema.js';
import {
  BRAND_LENGTHS,
  CARD_MAX_LENGTH,
  CARD_MIN_LENGTH,
  cvvLengthFor,
  detectBrand,
  type CardBrand,
} from './brands.js';
import { abaRoutingValid, luhnValid } from './checksums.js';
import { allDigits, numberAt, type DigitInput } from './digits.js';

/** The outcome of checking one complete entry. Errors are stable codes; never a value. */
export type ValidationResult = { valid: true; brand?: CardBrand } | { valid: false; error: string; brand?: CardBrand };

const ok = (): ValidationResult => ({ valid: true });
const fail = (error: string): ValidationResult => ({ valid: false, error });

function lengthBetween(digits: DigitInput, min: number, max: number): boolean {
  return digits.length >= min && digits.length <= max && allDigits(digits);
}

export function validateCardNumber(pan: DigitInput, allowedBrands: readonly CardBrand[]): ValidationResult {
  if (!lengthBetween(pan, CARD_MIN_LENGTH, CARD_MAX_LENGTH)) return fail('invalid_length');
  const brand = detectBrand(pan) ?? undefined;
  if (!luhnValid(pan)) return { valid: false, error: 'invalid_luhn', brand };
  if (brand && !BRAND_LENGTHS[brand].includes(pan.length)) return { valid: false, error: 'invalid_length', brand };
  if (!brand || !allowedBrands.includes(brand)) return { valid: false, error: 'brand_not_accepted', brand };
  return { valid: true, brand };
}

const MAX_YEARS_AHEAD = 20;

/** MMYY. Valid through the last day of its month (UTC), and at most 20 years ahead. */
export function validateExpiry(mmyy: DigitInput, nowMs: number): ValidationResult {
  if (mmyy.length !== 4 || !allDigits(mmyy)) return fail('invalid_length');
  const month = numberAt(mmyy, 0, 2);
  if (month < 1 || month > 12) return fail('invalid_expiry');
  const now = new Date(nowMs);
  const monthIndex = (year: number, m: number): number => year * 12 + (m - 1);
  const current = monthIndex(now.getUTCFullYear(), now.getUTCMonth() + 1);
  const expiry = monthIndex(2000 + numberAt(mmyy, 2, 4), month);
  if (expiry < current) return fail('expired');
  if (expiry > current + MAX_YEARS_AHEAD * 12) return fail('invalid_expiry');
  return ok();
}

/** With a known card brand the length is exact; without one, 3 or 4 digits are accepted. */
export function validateCvv(cvv: DigitInput, brand: CardBrand | null): ValidationResult {
  if (!allDigits(cvv)) return fail('invalid_cvv');
  const allowed = brand ? [cvvLengthFor(brand)] : [3, 4];
  return allowed.includes(cvv.length) ? ok() : fail('invalid_cvv');
}

/** US ZIP (5) or ZIP+4 (9); `minLength` 9 demands ZIP+4. */
export function validatePostalCode(zip: DigitInput, minLength: 5 | 9): ValidationResult {
  if (!allDigits(zip) || (zip.length !== 5 && zip.length !== 9) || zip.length < minLength) return fail('invalid_length');
  return ok();
}

export function validateRoutingNumber(routing: DigitInput): ValidationResult {
  if (routing.length !== 9 || !allDigits(routing)) return fail('invalid_length');
  return abaRoutingValid(routing) ? ok() : fail('invalid_checksum');
}

export function validateAccountNumber(account: DigitInput): ValidationResult {
  return lengthBetween(account, 4, 17) ? ok() : fail('invalid_length');
}

/** SSA rules: area not 000, 666 or 9xx; group not 00; serial not 0000. */
export function validateSsn(ssn: DigitInput): ValidationResult {
  if (ssn.length !== 9 || !allDigits(ssn)) return fail('invalid_length');
  const area = numberAt(ssn, 0, 3);
  const group = numberAt(ssn, 3, 5);
  const serial = numberAt(ssn, 5, 9);
  if (area === 0 || area === 666 || area >= 900 || group === 0 || serial === 0) return fail('invalid_ssn');
  return ok();
}

export function validateDigits(digits: DigitInput, field: Pick<DigitsFieldConfig, 'minLength' | 'maxLength' | 'checkDigit'>): ValidationResult {
  if (!lengthBetween(digits, field.minLength, field.maxLength)) return fail('invalid_length');
  if (field.checkDigit === 'luhn' && !luhnValid(digits)) return fail('invalid_luhn');
  return ok();
}
