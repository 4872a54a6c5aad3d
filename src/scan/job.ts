import type { HeaderlessFormat } from './recording.js';
import type { RecordingScan } from './scan-file.js';

/** One file for a scan worker. */
export interface ScanJob {
  path: string;
  headerless?: HeaderlessFormat;
  /** Where to write the redacted copy, when one is wanted. */
  redactTo?: string;
  nowMs: number;
}

/** A worker's answer: never a digit beyond a card's last four. */
export type ScanOutcome =
  | { ok: true; scan: Omit<RecordingScan, 'redacted'>; redactedTo?: string }
  | { ok: false; error: { code: string; message: string } };
