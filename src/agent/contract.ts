/**
 * The agent side's wire contract: what the REST API, `WS /v1/events`, the desktop settings and the
 * widget's `postMessage` protocol carry. The server and the browser desktop both import it, so it
 * must stay free of runtime dependencies (types and plain constants only).
 */
import type { CaptureView } from '../capture/types.js';
import type { Role } from './roles.js';
import type { Attestation, VerificationLevel } from '../verification/levels.js';

export type { CaptureResult, CaptureState, CaptureView, FieldState, FieldView } from '../capture/types.js';
export type { Role } from './roles.js';
export type { Attestation, VerificationLevel } from '../verification/levels.js';

export const EVENTS_PATH = '/v1/events';
export const EVENTS_SUBPROTOCOL = 'toneguard.v1';

/** Close codes of `WS /v1/events` a client can act on. */
export const EVENTS_CLOSE = {
  unauthenticated: 4401,
  forbidden: 4403,
  malformed: 4400,
  rateLimited: 1008,
  tooSlow: 1013,
  goingAway: 1001,
} as const;

/** `POST` here (development profile only) plays a simulated caller who keys a test card. */
export const SIMULATED_CALLS_PATH = '/v1/dev/simulated-calls';

export type CallState = 'ringing' | 'bridged' | 'ended';

/** A call as the agent side sees it. */
export interface CallView {
  /** The caller leg's CallSid: the id the agent API uses. */
  callSid: string;
  /** The agent identity bound to this call. */
  agentId?: string;
  /** The caller's number as the platform reported it; shown to the agent, never logged. */
  from?: string;
  state: CallState;
  startedAt: string;
  endedAt?: string;
  /** What masking did to the audio the agent heard; absent until the caller's audio flows. */
  masking?: MaskingView;
  /** How sure Toneguard is that the caller is the customer; absent on calls from before the feature. */
  verification?: VerificationView;
}

/** What the agent sees of caller verification: a level and its reasons, never a code, never a whole number. */
export interface VerificationView {
  level: VerificationLevel;
  /** The caller's STIR/SHAKEN attestation when the carrier's signature verified; null otherwise. */
  attestation: Attestation | null;
  /** Whether the caller ID is one of the account's numbers on file; null until an account is looked up. */
  callerIdOnFile: boolean | null;
  /** The last two digits of each number on file, by the index a one-time code is sent to. */
  numbersOnFile: string[];
  /** The one-time code step, once a code was sent. */
  otp: OtpView | null;
}

export interface OtpView {
  state: 'sent' | 'verified' | 'failed' | 'expired';
  /** The `otp` capture the caller keys the code into. */
  captureId: string;
  /** The last two digits of the number the code went to. */
  numberLast2: string;
}

/**
 * What the tone masker did on one call, measured on the stream forwarded to the agent (never the
 * caller's raw audio). Counts and levels only: no digit, no value.
 */
export interface MaskingView {
  /** Caller audio replaced before the agent heard it (ms). */
  maskedMs: number;
  /** Keypresses heard on the call (tones or provider events), counted, never named. */
  keypresses: number;
  /** Caller audio forwarded so far (ms). */
  audioMs: number;
  /**
   * Only in the call's final view (state `ended`): sent once, it keeps the live events and the
   * snapshot a desktop resumes with small, however many calls it watches.
   */
  spectrogram?: SpectrogramView;
}

/** A coarse spectrogram of the forwarded audio: `bins` levels per column, columns oldest first. */
export interface SpectrogramView {
  bins: number;
  binHz: number;
  columnMs: number;
  /** Index of the first column held (older columns have been dropped) since the call's start. */
  firstColumn: number;
  /** Base64 of `bins` bytes per column; a byte is the bin's level in dB above `floorDb` (1 dB steps). */
  levels: string;
  /** Base64 of one byte per column: the percentage of the column's audio that was masked. */
  masked: string;
  /** The level a zero byte stands for, in dB relative to a full-scale sine. */
  floorDb: number;
}

/** What `WS /v1/events` sends. Views and calls are the same redacted shapes the REST API returns. */
export type AgentEvent =
  | { type: 'ready'; sub: string; roles: Role[] }
  | { type: 'capture'; view: CaptureView }
  | { type: 'call'; call: CallView }
  | { type: 'heartbeat'; at: string }
  | { type: 'pong' };

/** `GET /desktop/settings.json`: what the page needs to know about this deployment; nothing secret. */
export interface DesktopSettings {
  /** Whether `POST /v1/dev/token` exists, so the page can offer the development sign-in. */
  devTokens: boolean;
  /** Origins whose pages may embed the widget and hand it a token by `postMessage`. */
  embedOrigins: string[];
  /** Present when `POST /v1/dev/simulated-calls` exists: the agent identity simulated calls ring. */
  simulator?: { agentId: string };
}

/** Messages between the widget and the page embedding it. */
export type WidgetMessage =
  | { type: 'toneguard.ready' }
  | { type: 'toneguard.token'; token: string }
  | { type: 'toneguard.result'; captureId: string; brand: string | null; last4: string | null; token: string };

/** `GET` here (roles `auditor` and `admin`) returns the latest `EvidenceSummary`; 404 `evidence_not_found` before one exists. */
export const EVIDENCE_PATH = '/v1/evidence';
export const EVIDENCE_ROLES: readonly Role[] = ['auditor', 'admin'];

/**
 * The machine-readable digest of the last `toneguard evidence` run, written into the data
 * directory beside nothing else. Verdicts, counts and check names only: no card data, no secret,
 * no file path, no free-text error.
 */
export interface EvidenceSummary {
  generatedAt: string;
  build: { version: string };
  /** The report's verdict: battery, audit chain and every sampled recording pass. */
  pass: boolean;
  battery: { checks: { name: string; pass: boolean }[] };
  /** `records` is null when the chain could not be verified (no trail, no key, a broken link). */
  audit: { verified: boolean; records: number | null };
  /** null when the keyring could not be read. */
  keyVersions: number | null;
  config: { fingerprint: string; checksPassed: number; checksFailed: number };
  /** `sampled`: recordings decrypted and scanned; `verified`: of those, decrypted and free of DTMF. null when they could not be read. */
  recordings: { total: number; sampled: number; verified: number } | null;
}
