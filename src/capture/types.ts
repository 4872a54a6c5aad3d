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
  'otp',
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
  /** Increases with every change, so clients can drop stale views. */
  version: number;
  /**
   * Set when the capture resumed on another media node after its node was lost: the fields
   * completed before are kept, the one in progress is keyed again.
   */
  resumedAt?: string;
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

/** One field the agent asks for: a kind, or the configured name of a `digits` field. */
export interface FieldRequest {
  name: string;
  /** Per-field overrides of the capture options. */
  mask?: MaskPolicy;
  requireMatching?: boolean;
}

export interface CaptureOptions {
  requireMatching?: boolean;
  maxAttempts?: number;
  firstDigitTimeoutMs?: number;
  interDigitTimeoutMs?: number;
  totalTimeoutMs?: number;
  mask?: MaskPolicy;
  /** Data subject for identity fields (crypto-shredding). */
  subjectId?: string;
}

/**
 * How an `otp` field checks a one-time code: the code is compared, never kept as a value nor
 * tokenized. Only caller verification opens such a field; an agent cannot request one by name.
 */
export interface OneTimeCodeCheck {
  length: number;
  /** Compares typed ASCII digits; a refusal carries a stable code such as `otp_mismatch`. */
  check(typed: Uint8Array): { valid: true } | { valid: false; error: string };
}

export interface StartCaptureRequest {
  callSid: string;
  fields: FieldRequest[];
  mode?: CaptureMode;
  options?: CaptureOptions;
  actor: Actor;
  /** The check behind an `otp` field (in-line mode only). */
  oneTimeCode?: OneTimeCodeCheck;
}

export type KeySource = 'inband' | 'event';

/** A live capture. The bridge feeds it keys; the agent API commands it; it emits views. */
export interface CaptureSession {
  readonly id: string;
  readonly callSid: string;
  readonly mode: CaptureMode;
  view(): CaptureView;
  /** True until complete, failed or cancelled. */
  isActive(): boolean;
  /** What the media bridge must do with caller audio now; null when no field is open. */
  maskPolicy(): MaskPolicy | null;
  /** One decided keypress. `atMs` is the caller-audio time of its onset. */
  press(key: Keypress, atMs: number, source: KeySource): void;
  /** A keypress is under way (tone onset suspected): the total-time limit must not cut it off. */
  noteActivity(atMs: number): void;
  resetField(field: string, actor: Actor): void;
  cancel(reason: string, actor: Actor): void;
}

/**
 * How a capture mode other than in-line drives a session (Twilio Pay mode): it reports progress
 * through the handle and the session turns that into the same agent views.
 */
export interface ExternalCaptureHandle {
  readonly captureId: string;
  readonly callSid: string;
  readonly fields: readonly { name: string; kind: FieldKind }[];
  updateField(name: string, patch: Partial<Pick<FieldView, 'state' | 'digitCount' | 'valid' | 'error' | 'brand' | 'last4' | 'attempts'>>): void;
  setCurrentField(name: string | null): void;
  complete(result: CaptureResult): void;
  fail(code: string, message: string): void;
}

export interface CaptureModeDriver {
  start(handle: ExternalCaptureHandle, request: StartCaptureRequest): Promise<void>;
  resetField(handle: ExternalCaptureHandle, field: string): Promise<void>;
  cancel(handle: ExternalCaptureHandle, reason: string): Promise<void>;
}

export interface CaptureService {
  /** Throws ToneguardError: 409 `capture_in_progress`, 422 `invalid_fields`, 400 `unknown_mode`. */
  start(request: StartCaptureRequest): CaptureSession;
  get(id: string): CaptureSession | undefined;
  activeForCall(callSid: string): CaptureSession | undefined;
  /** Every view change of every capture, in order per capture. */
  onView(listener: (view: CaptureView) => void): () => void;
  registerMode(mode: Exclude<CaptureMode, 'inline'>, driver: CaptureModeDriver): void;
  /** Cancels every live capture of a call (hang-up). */
  endCall(callSid: string, reason: string): void;
  /**
   * Cluster mode: the call's media moved here after its node was lost. Rebuilds its capture, if it
   * had one in progress, from the checkpoint (same id; completed fields kept, the rest pending).
   */
  resume?(callSid: string): Promise<CaptureSession | undefined>;
  /** Cluster mode: a capture whose node was lost, known only by its last saved view, fails with `node_lost`. */
  failLost?(saved: CaptureView): void;
}
