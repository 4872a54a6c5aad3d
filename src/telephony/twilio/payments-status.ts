import { z } from 'zod';
import type { FieldKind, FieldView } from '../../capture/types.js';

/** Twilio's `Capture` names for the fields Twilio Pay can collect. */
export const PAYMENT_CAPTURE_FOR_KIND = {
  card_number: 'payment-card-number',
  expiry: 'expiration-date',
  cvv: 'security-code',
  postal_code: 'postal-code',
  routing_number: 'bank-routing-number',
  account_number: 'bank-account-number',
} as const satisfies Partial<Record<FieldKind, string>>;
export type PaymentKind = keyof typeof PAYMENT_CAPTURE_FOR_KIND;
export type PaymentCapture = (typeof PAYMENT_CAPTURE_FOR_KIND)[PaymentKind];

export function isPaymentKind(kind: FieldKind): kind is PaymentKind {
  return Object.hasOwn(PAYMENT_CAPTURE_FOR_KIND, kind);
}

/** The status-callback parameter that shows a field's (masked) progress. */
const SHOWN_IN: Record<PaymentKind, string> = {
  card_number: 'PaymentCardNumber',
  expiry: 'ExpirationDate',
  cvv: 'SecurityCode',
  postal_code: 'PaymentCardPostalCode',
  routing_number: 'BankRoutingNumber',
  account_number: 'BankAccountNumber',
};

/** A masked value is at most a 19-digit card number with separators; anything longer is not Twilio's. */
export const MAX_MASKED_LENGTH = 64;
const MAX_ID_LENGTH = 64;
const MAX_TEXT_LENGTH = 1024;

const sid = z.string().min(1).max(MAX_ID_LENGTH);
const optional = z.string().max(MAX_TEXT_LENGTH).optional();
const masked = z.string().max(MAX_MASKED_LENGTH).optional();
/**
 * Lenient about what Twilio adds (its docs disagree on some formats), strict about size: every
 * parameter we read is bounded here, at the edge, before anything scans it.
 */
const statusSchema = z.looseObject({
  Sid: sid,
  CallSid: sid,
  AccountSid: sid.optional(),
  Capture: optional,
  PartialResult: optional,
  Required: optional,
  PaymentCardType: optional,
  ErrorType: optional,
  Result: optional,
  PaymentToken: optional,
  PaymentError: optional,
  PayErrorCode: optional,
  ConnectorError: optional,
  ...Object.fromEntries(Object.values(SHOWN_IN).map((param) => [param, masked])),
});

export interface PaymentStatus {
  paymentSid: string;
  callSid: string;
  /** The field Twilio is collecting, as its `Capture` name. */
  capture: string | null;
  partial: boolean;
  /** Captures still to collect; null when the callback did not say. */
  required: string[] | null;
  cardType: string | null;
  errorType: string | null;
  result: string | null;
  paymentToken: string | null;
  /** Masked progress per field kind, as Twilio shows it. */
  shown: Partial<Record<PaymentKind, string>>;
}

export type ParsedPaymentStatus = { ok: true; status: PaymentStatus } | { ok: false; message: string };

/** Parses a status callback's form parameters; refused when it does not identify a payment or a value is too long. */
export function parsePaymentStatus(params: Record<string, unknown>): ParsedPaymentStatus {
  const parsed = statusSchema.safeParse(params);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((issue) => String(issue.path[0] ?? 'body')))];
    return { ok: false, message: `missing, malformed or too long: ${fields.join(', ')}` };
  }
  const p = parsed.data;
  const shown: Partial<Record<PaymentKind, string>> = {};
  for (const [kind, param] of Object.entries(SHOWN_IN) as [PaymentKind, string][]) {
    const value = params[param];
    if (typeof value === 'string' && value !== '') shown[kind] = value;
  }
  const status: PaymentStatus = {
    paymentSid: p.Sid,
    callSid: p.CallSid,
    capture: nonEmpty(p.Capture),
    partial: p.PartialResult?.toLowerCase() === 'true',
    required: p.Required === undefined ? null : p.Required.split(/[\s,]+/).filter(Boolean),
    cardType: nonEmpty(p.PaymentCardType),
    errorType: nonEmpty(p.ErrorType),
    result: nonEmpty(p.Result),
    paymentToken: nonEmpty(p.PaymentToken),
    shown,
  };
  return { ok: true, status };
}

function nonEmpty(value: string | undefined): string | null {
  return value === undefined || value === '' ? null : value;
}

const MASK_CHARACTERS = new Set(['x', 'X', '*', '•', '#']);

/**
 * Counts the positions of a masked value and keeps its visible trailing digits. Accepts every
 * format Twilio has documented (`xxxx-xxxxxx-x4001`, `xxxxxxxxxxx4001`, `***`, `xx/xx`): mask
 * characters and digits are positions, separators are not. One pass, each character read once
 * (no backtracking regex), so its cost is linear in the value's length whatever the value.
 */
export function readMask(masked: Iterable<string>): { digitCount: number; trailingDigits: string } {
  let digitCount = 0;
  let trailingDigits = '';
  for (const ch of masked) {
    if (ch >= '0' && ch <= '9') {
      digitCount++;
      trailingDigits += ch;
    } else if (MASK_CHARACTERS.has(ch)) {
      digitCount++;
      trailingDigits = '';
    }
  }
  return { digitCount, trailingDigits };
}

const CARD_TYPES: Record<string, string> = {
  visa: 'visa',
  mastercard: 'mastercard',
  'master-card': 'mastercard',
  amex: 'amex',
  'american-express': 'amex',
  discover: 'discover',
  jcb: 'jcb',
  'diners-club': 'diners',
  diners: 'diners',
  maestro: 'maestro',
  unionpay: 'unionpay',
  'union-pay': 'unionpay',
};

/** Our brand name for Twilio's `PaymentCardType`; unknown types pass through lower-cased. */
export function brandOf(cardType: string): string {
  const key = cardType.trim().toLowerCase().replace(/[\s_]+/g, '-');
  return CARD_TYPES[key] ?? key;
}

/** A stable error code for Twilio's `ErrorType` or `Result` (`invalid-card-number` → `invalid_card_number`). */
export function errorCodeOf(twilioCode: string): string {
  if (twilioCode === 'input-timeout') return 'timeout';
  return twilioCode.trim().toLowerCase().replace(/[^a-z0-9]+/g, '_');
}

export type FieldPatch = Partial<Pick<FieldView, 'state' | 'digitCount' | 'valid' | 'error' | 'brand' | 'last4'>>;

/**
 * What one callback says about one requested field. A field is complete once Twilio no longer
 * lists it as required; it is being captured while it is Twilio's current `Capture`.
 */
export function fieldPatch(kind: PaymentKind, status: PaymentStatus): FieldPatch {
  const capture = PAYMENT_CAPTURE_FOR_KIND[kind];
  const current = status.capture === capture;
  const shown = status.shown[kind];
  const patch: FieldPatch = {};
  if (shown !== undefined) patch.digitCount = readMask(shown).digitCount;
  if (kind === 'card_number' && status.cardType) patch.brand = brandOf(status.cardType);
  if (current && status.errorType) {
    return { ...patch, state: 'invalid', valid: false, error: errorCodeOf(status.errorType) };
  }
  const stillRequired = status.required?.includes(capture) ?? true;
  if (!stillRequired && !(current && status.partial)) {
    patch.state = 'complete';
    patch.valid = true;
    patch.error = null;
    if (kind === 'card_number' && shown) {
      const last = readMask(shown).trailingDigits;
      if (last.length >= 4) patch.last4 = last.slice(-4);
    }
  } else if (current) {
    patch.state = 'capturing';
  }
  return patch;
}
