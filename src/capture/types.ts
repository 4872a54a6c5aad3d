import type { Actor } from '../audit/types.js';

/** The field kinds of the public contract (shared/DESIGN.md). */
export const FIELD_KINDS = [
  'card_number',
  'expiry',
  'cvv',
  'postal_code',
  'routing_number',
  'account_number',
  'ssn',
  'digits',
] as const;
export type FieldKind = (typeof FIELD_KINDS)[number];

export type FieldState = 'pending' | 'capturing' | 'complete' | 'invalid' | 'timeout' | 'cancelled';
export type CaptureState = 'active' | 'tokenizing' | 'complete' | 'failed' | 'cancelled';
/** `tones` removes keypad tones only; `all` mutes every caller sound to the agent while the field is open. */
export type MaskPolicy = 'tones' | 'all';
export type CaptureMode = 'inline' | 'twilio-pay';
export type Keypress = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '*' | '#';

export interface FieldView {
  /** The field's name: the kind, or the configured name of a `digits` field. */
  name: string;
  kind: FieldKind;
  state: FieldState;
  digitCount: number;
  /** null until the field has been checked. */
  valid: boolean | null;
  /** A stable code such as `invalid_luhn`, `timeout`, `too_many_attempts`; never a value. */
  error: string | null;
  attempts: number;
  maxAttempts: number;
  mask: MaskPolicy;
  /** Card fields only, once known. */
  brand?: string;
  /** Card fields only, once complete and valid. */
  last4?: string;
}

export interface CaptureResult {
  /** Toneguard's vault token, or the processor's token when a processor answers with one. */
  token: string;
  /** Our vault token, when `token` is the processor's. */
  vaultToken?: string;
  brand?: string;
  last4?: string;
  /** ISO-8601; when the vault forgets the data. */
  expiresAt?: string;
}

/** The redacted view the agent side sees. It never holds a captured value. */
export interface CaptureView {
  id: string;
  callSid: string;
  mode: CaptureMode;
  state: CaptureState;
  currentField: string | null;
  fields: FieldView[];
  result: CaptureResult | null;
  error: { code: string; message: string } | null;
  createdAt: string;
  updatedAt: string;
  /** Increases by one with every change, so clients can drop stale views. */
  version: number;
}

/**
 * What the capture engine hands to the vault side when every field is complete.
 * Values are ASCII digit bytes; the receiver must zero them when done.
 */
export interface TokenizeRequest {
  captureId: string;
  callSid: string;
  actor: Actor;
  /** Field name → ASCII digits. */
  values: Map<string, Uint8Array>;
  kinds: Map<string, FieldKind>;
  /** For identity numbers: whose data this is, for crypto-shredding. */
  subjectId?: string;
}

/** The only place a capture session may send raw values. */
export interface Tokenizer {
  tokenize(request: TokenizeRequest): Promise<CaptureResult>;
}
