import type { Config } from '../config/schema.js';
import { CARD_MAX_LENGTH, brandMaxLength, cvvLengthFor, detectBrand, type CardBrand } from './brands.js';
import type { FieldKind, MaskPolicy, OneTimeCodeCheck } from './types.js';
import {
  validateAccountNumber,
  validateCardNumber,
  validateCvv,
  validateDigits,
  validateExpiry,
  validatePostalCode,
  validateRoutingNumber,
  validateSsn,
  type ValidationResult,
} from './validators.js';

export type CaptureConfig = Config['capture'];

/** What a field's rules may depend on besides its own digits. */
export interface FieldContext {
  /** The brand of the card captured in the same capture, once known. */
  cardBrand: CardBrand | null;
  /** Injected clock time, for expiry dates. */
  nowMs: number;
}

/** The schema of one field: how long it may be, when it completes by itself, how it is checked. */
export interface FieldSpec {
  name: string;
  kind: FieldKind;
  /** The mask policy unless the request overrides it. */
  defaultMask: MaskPolicy;
  /** No entry may be longer; also the size of the field's buffer. */
  maxLength: number;
  /** The length at which entry completes without `#`, given the digits typed so far. */
  autoCompleteLength(typed: Uint8Array, context: FieldContext): number;
  validate(digits: Uint8Array, context: FieldContext): ValidationResult;
}

type BuiltinKind = Exclude<FieldKind, 'digits' | 'otp'>;

function fixed(kind: BuiltinKind, length: number, validate: FieldSpec['validate']): FieldSpec {
  return { name: kind, kind, defaultMask: 'tones', maxLength: length, autoCompleteLength: () => length, validate };
}

function builtinSpecs(config: CaptureConfig): Record<BuiltinKind, FieldSpec> {
  return {
    card_number: {
      name: 'card_number',
      kind: 'card_number',
      defaultMask: 'tones',
      maxLength: CARD_MAX_LENGTH,
      autoCompleteLength: (typed) => {
        const brand = detectBrand(typed);
        return brand ? brandMaxLength(brand) : CARD_MAX_LENGTH;
      },
      validate: (digits) => validateCardNumber(digits, config.allowedBrands),
    },
    expiry: fixed('expiry', 4, (digits, ctx) => validateExpiry(digits, ctx.nowMs)),
    cvv: {
      ...fixed('cvv', 4, (digits, ctx) => validateCvv(digits, ctx.cardBrand)),
      autoCompleteLength: (_typed, ctx) => (ctx.cardBrand ? cvvLengthFor(ctx.cardBrand) : 4),
    },
    postal_code: fixed('postal_code', 9, (digits) => validatePostalCode(digits, config.postalCodeMinLength)),
    routing_number: fixed('routing_number', 9, validateRoutingNumber),
    account_number: fixed('account_number', 17, validateAccountNumber),
    ssn: fixed('ssn', 9, validateSsn),
  };
}

/** A one-time code: a fixed length, checked against its challenge, never tokenized. */
function oneTimeCodeSpec(check: OneTimeCodeCheck): FieldSpec {
  return { name: 'otp', kind: 'otp', defaultMask: 'tones', maxLength: check.length, autoCompleteLength: () => check.length, validate: (digits) => check.check(digits) };
}

/**
 * The schema for a requested field name: a built-in kind, a configured `digits` field, or `otp`
 * when the request carries a one-time code check.
 */
export function resolveFieldSpec(name: string, config: CaptureConfig, oneTimeCode?: OneTimeCodeCheck): FieldSpec | undefined {
  if (name === 'otp') return oneTimeCode ? oneTimeCodeSpec(oneTimeCode) : undefined;
  const builtins = builtinSpecs(config);
  if (Object.hasOwn(builtins, name)) return builtins[name as BuiltinKind];
  const digits = config.digitsFields.find((f) => f.name === name);
  if (!digits) return undefined;
  return {
    name: digits.name,
    kind: 'digits',
    defaultMask: digits.mask,
    maxLength: digits.maxLength,
    autoCompleteLength: () => digits.maxLength,
    validate: (value) => validateDigits(value, digits),
  };
}
