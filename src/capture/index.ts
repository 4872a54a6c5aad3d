export * from './types.js';
export { asciiDigits, DigitBuffer, type DigitInput } from './digits.js';
export { luhnValid, abaRoutingValid } from './checksums.js';
export {
  BRAND_LENGTHS,
  CARD_MAX_LENGTH,
  CARD_MIN_LENGTH,
  IIN_TABLE,
  brandMaxLength,
  cvvLengthFor,
  detectBrand,
  type CardBrand,
  type IinRange,
} from './brands.js';
export {
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
export { resolveFieldSpec, type CaptureConfig, type FieldContext, type FieldSpec } from './fields.js';
export { realClock, type Clock } from './clock.js';
export type { SessionDeps } from './lifecycle.js';
export { InlineCaptureSession, KEY_GRACE_MS, type InlineFieldSetup, type InlineSessionDeps, type InlineSessionSettings } from './session.js';
export { ExternalCaptureSession } from './external-session.js';
export { createCaptureService, ENDED_RETENTION_MS, type CaptureServiceDeps } from './service.js';
