import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BRAND_LENGTHS,
  abaRoutingValid,
  asciiDigits,
  detectBrand,
  luhnValid,
  validateAccountNumber,
  validateCardNumber,
  validateCvv,
  validateDigits,
  validateExpiry,
  validatePostalCode,
  validateRoutingNumber,
  validateSsn,
  type CardBrand,
} from '../../src/capture/index.js';
import { withLuhnDigit } from './luhn-util.js';

const ALL_BRANDS = Object.keys(BRAND_LENGTHS) as CardBrand[];
const TEST_PANS: [string, CardBrand][] = [
  ['4111111111111111', 'visa'],
  ['4242424242424242', 'visa'],
  ['5555555555554444', 'mastercard'],
  ['378282246310005', 'amex'],
  ['6011111111111117', 'discover'],
  ['3530111333300000', 'jcb'],
  ['36227206271667', 'diners'],
  ['6200000000000005', 'unionpay'],
];
const digitString = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });

describe('luhnValid', () => {
  it('accepts the network test numbers, as strings and as ASCII bytes', () => {
    for (const [pan] of TEST_PANS) {
      expect(luhnValid(pan)).toBe(true);
      expect(luhnValid(asciiDigits(pan))).toBe(true);
    }
  });

  it('rejects empty and non-digit input', () => {
    expect(luhnValid('')).toBe(false);
    expect(luhnValid('4111-1111')).toBe(false);
  });

  it('accepts any body with its check digit and catches every single-digit error', () => {
    fc.assert(
      fc.property(digitString(1, 25), fc.nat(), fc.integer({ min: 1, max: 9 }), (body, pos, delta) => {
        const valid = withLuhnDigit(body);
        expect(luhnValid(valid)).toBe(true);
        const i = pos % valid.length;
        const changed = valid.slice(0, i) + String((Number(valid[i]) + delta) % 10) + valid.slice(i + 1);
        expect(luhnValid(changed)).toBe(false);
      }),
    );
  });
});

describe('ABA routing checksum', () => {
  it('accepts real routing numbers', () => {
    for (const routing of ['021000021', '011000015', '121000358']) expect(validateRoutingNumber(routing)).toEqual({ valid: true });
  });

  it('rejects a wrong length and a wrong checksum with distinct codes', () => {
    expect(validateRoutingNumber('02100002')).toEqual({ valid: false, error: 'invalid_length' });
    expect(validateRoutingNumber('021000022')).toEqual({ valid: false, error: 'invalid_checksum' });
  });

  it('catches every single-digit error', () => {
    fc.assert(
      fc.property(digitString(8, 8), fc.nat(8), fc.integer({ min: 1, max: 9 }), (body, i, delta) => {
        const weights = [3, 7, 1, 3, 7, 1, 3, 7];
        const sum = weights.reduce((acc, w, k) => acc + w * Number(body[k]), 0);
        const routing = body + String((10 - (sum % 10)) % 10);
        expect(abaRoutingValid(routing)).toBe(true);
        const changed = routing.slice(0, i) + String((Number(routing[i]) + delta) % 10) + routing.slice(i + 1);
        expect(abaRoutingValid(changed)).toBe(false);
      }),
    );
  });
});

describe('detectBrand', () => {
  it('knows the test numbers', () => {
    for (const [pan, brand] of TEST_PANS) expect(detectBrand(pan)).toBe(brand);
  });

  it.each([
    ['4', 'visa'],
    ['51', 'mastercard'],
    ['55', 'mastercard'],
    ['2221', 'mastercard'],
    ['2720', 'mastercard'],
    ['34', 'amex'],
    ['37', 'amex'],
    ['6011', 'discover'],
    ['644', 'discover'],
    ['649', 'discover'],
    ['65', 'discover'],
    ['3528', 'jcb'],
    ['3589', 'jcb'],
    ['300', 'diners'],
    ['305', 'diners'],
    ['36', 'diners'],
    ['38', 'diners'],
    ['62', 'unionpay'],
    ['50', 'maestro'],
    ['56', 'maestro'],
    ['58', 'maestro'],
    ['6304', 'maestro'],
    ['6759', 'maestro'],
  ])('prefix %s is %s', (prefix, brand) => {
    expect(detectBrand(prefix)).toBe(brand);
  });

  it.each(['', '1', '2220', '2721', '3', '306', '35', '3527', '3590', '59', '6010', '643', '9'])('prefix "%s" is unknown', (prefix) => {
    expect(detectBrand(prefix)).toBeNull();
  });

  it('never changes its mind once a prefix has a brand (the view shows it early)', () => {
    fc.assert(
      fc.property(digitString(1, 19), (pan) => {
        const full = detectBrand(pan);
        for (let n = 1; n <= pan.length; n++) {
          const partial = detectBrand(pan.slice(0, n));
          if (partial !== null) expect(partial).toBe(full);
        }
      }),
    );
  });
});

describe('validateCardNumber', () => {
  it('accepts the test numbers with their brands', () => {
    for (const [pan, brand] of TEST_PANS) expect(validateCardNumber(pan, ALL_BRANDS)).toEqual({ valid: true, brand });
  });

  it('names what is wrong', () => {
    expect(validateCardNumber('4111111111111112', ALL_BRANDS)).toEqual({ valid: false, error: 'invalid_luhn', brand: 'visa' });
    expect(validateCardNumber(withLuhnDigit('4'.repeat(10)), ALL_BRANDS)).toMatchObject({ error: 'invalid_length' });
    expect(validateCardNumber(withLuhnDigit('4'.repeat(19)), ALL_BRANDS)).toMatchObject({ error: 'invalid_length' });
    expect(validateCardNumber(withLuhnDigit('4'.repeat(13)), ALL_BRANDS)).toEqual({ valid: false, error: 'invalid_length', brand: 'visa' });
    expect(validateCardNumber('378282246310005', ['visa', 'mastercard'])).toEqual({ valid: false, error: 'brand_not_accepted', brand: 'amex' });
    expect(validateCardNumber(withLuhnDigit('9'.repeat(15)), ALL_BRANDS)).toEqual({ valid: false, error: 'brand_not_accepted' });
  });

  it('matches the model for any Luhn-valid number of 12-19 digits and any allow-list', () => {
    fc.assert(
      fc.property(digitString(11, 18), fc.subarray(ALL_BRANDS), (body, allowed) => {
        const pan = withLuhnDigit(body);
        const brand = detectBrand(pan);
        const result = validateCardNumber(pan, allowed);
        if (brand && !BRAND_LENGTHS[brand].includes(pan.length)) expect(result).toMatchObject({ valid: false, error: 'invalid_length' });
        else if (!brand || !allowed.includes(brand)) expect(result).toMatchObject({ valid: false, error: 'brand_not_accepted' });
        else expect(result).toEqual({ valid: true, brand });
      }),
    );
  });
});

describe('validateExpiry', () => {
  const now = Date.UTC(2026, 10, 23, 12); // November 2026

  it.each([
    ['this month', '1126', { valid: true }],
    ['next year', '0127', { valid: true }],
    ['exactly 20 years ahead', '1146', { valid: true }],
    ['last month', '1026', { valid: false, error: 'expired' }],
    ['far future', '1299', { valid: false, error: 'invalid_expiry' }],
    ['20 years and a month ahead', '1246', { valid: false, error: 'invalid_expiry' }],
    ['month 00', '0027', { valid: false, error: 'invalid_expiry' }],
    ['month 13', '1327', { valid: false, error: 'invalid_expiry' }],
    ['three digits', '127', { valid: false, error: 'invalid_length' }],
  ])('%s', (_case, mmyy, expected) => {
    expect(validateExpiry(mmyy, now)).toEqual(expected);
  });

  it('is valid through the last day of its month (UTC)', () => {
    expect(validateExpiry('1126', Date.UTC(2026, 10, 30, 23, 59, 59))).toEqual({ valid: true });
    expect(validateExpiry('1126', Date.UTC(2026, 11, 1))).toEqual({ valid: false, error: 'expired' });
  });

  it('matches the model for every MMYY', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), (mm, yy) => {
        const text = String(mm).padStart(2, '0') + String(yy).padStart(2, '0');
        const months = (2000 + yy) * 12 + mm - 1 - (2026 * 12 + 10);
        const expected =
          mm < 1 || mm > 12 ? 'invalid_expiry' : months < 0 ? 'expired' : months > 240 ? 'invalid_expiry' : null;
        expect(validateExpiry(text, now)).toEqual(expected ? { valid: false, error: expected } : { valid: true });
      }),
    );
  });
});

describe('validateCvv', () => {
  it('is 4 digits for Amex, 3 for other brands, 3 or 4 without a card', () => {
    expect(validateCvv('1234', 'amex').valid).toBe(true);
    expect(validateCvv('123', 'amex')).toEqual({ valid: false, error: 'invalid_cvv' });
    expect(validateCvv('123', 'visa').valid).toBe(true);
    expect(validateCvv('1234', 'visa')).toEqual({ valid: false, error: 'invalid_cvv' });
    expect(validateCvv('123', null).valid).toBe(true);
    expect(validateCvv('1234', null).valid).toBe(true);
    expect(validateCvv('12', null).valid).toBe(false);
    expect(validateCvv('12345', null).valid).toBe(false);
  });
});

describe('validatePostalCode', () => {
  it('accepts ZIP and ZIP+4, honouring the configured minimum', () => {
    expect(validatePostalCode('94105', 5).valid).toBe(true);
    expect(validatePostalCode('941051234', 5).valid).toBe(true);
    expect(validatePostalCode('941051234', 9).valid).toBe(true);
    expect(validatePostalCode('94105', 9)).toEqual({ valid: false, error: 'invalid_length' });
    for (const bad of ['9410', '941051', '94105123', '9410512345']) expect(validatePostalCode(bad, 5).valid).toBe(false);
  });
});

describe('validateAccountNumber', () => {
  it('accepts exactly 4 to 17 digits', () => {
    fc.assert(
      fc.property(digitString(0, 25), (account) => {
        expect(validateAccountNumber(account).valid).toBe(account.length >= 4 && account.length <= 17);
      }),
    );
  });
});

describe('validateSsn', () => {
  it.each([
    ['area 000', '000123456'],
    ['area 666', '666123456'],
    ['area 900', '900123456'],
    ['area 999', '999123456'],
    ['group 00', '123001234'],
    ['serial 0000', '123450000'],
  ])('rejects %s', (_rule, ssn) => {
    expect(validateSsn(ssn)).toEqual({ valid: false, error: 'invalid_ssn' });
  });

  it('rejects a wrong length', () => {
    expect(validateSsn('12345678')).toEqual({ valid: false, error: 'invalid_length' });
  });

  it('matches the SSA rules for any 9 digits', () => {
    fc.assert(
      fc.property(digitString(9, 9), (ssn) => {
        const area = Number(ssn.slice(0, 3));
        const ok = area !== 0 && area !== 666 && area < 900 && ssn.slice(3, 5) !== '00' && ssn.slice(5) !== '0000';
        expect(validateSsn(ssn).valid).toBe(ok);
      }),
    );
  });
});

describe('validateDigits', () => {
  it('applies the configured lengths and check digit', () => {
    const field = { minLength: 6, maxLength: 10, checkDigit: 'luhn' as const };
    expect(validateDigits(withLuhnDigit('12345'), field).valid).toBe(true);
    expect(validateDigits('123456', field)).toEqual({ valid: false, error: 'invalid_luhn' });
    expect(validateDigits(withLuhnDigit('1234'), field)).toEqual({ valid: false, error: 'invalid_length' });
    expect(validateDigits('123456', { ...field, checkDigit: 'none' }).valid).toBe(true);
  });
});
