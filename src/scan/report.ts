import type { Span } from './findings.js';
import type { ScanOutcome } from './job.js';
import type { ReportedCard } from './scan-file.js';

/** How `toneguard scan` words its results. Everything here holds at most a card's brand and last four. */

export interface ScanTotals {
  files: number;
  errors: number;
  filesWithCards: number;
  cards: number;
  audioMs: number;
  elapsedMs: number;
}

const spanText = (span: Span): string => `${span.startMs}–${span.endMs} ms`;

export function cardLine(file: string, card: ReportedCard): string {
  const parts = [`${file}: channel ${card.channel}: ${card.brand} ending ${card.last4} (${card.digitCount} digits) at ${spanText(card)}`];
  if (card.expiry) parts.push(`expiry at ${spanText(card.expiry)}`);
  if (card.cvv) parts.push(`CVV at ${spanText(card.cvv)}`);
  return parts.join('; ');
}

export function errorLine(file: string, error: { code: string; message: string }): string {
  return `toneguard scan: ${file}: ${error.code}: ${error.message}`;
}

/** The `--json` line for one file. */
export function fileJson(file: string, outcome: ScanOutcome): string {
  if (!outcome.ok) return JSON.stringify({ type: 'file', file, ok: false, error: outcome.error });
  const { truncated, ...scan } = outcome.scan;
  return JSON.stringify({
    type: 'file',
    file,
    ok: truncated === undefined,
    ...scan,
    ...(outcome.redactedTo ? { redacted: outcome.redactedTo } : {}),
    ...(truncated ? { error: { code: 'scan_truncated', message: truncated } } : {}),
  });
}

export function summaryLine(totals: ScanTotals): string {
  const hours = (totals.audioMs / 3_600_000).toFixed(2);
  const factor = totals.elapsedMs > 0 ? Math.round(totals.audioMs / totals.elapsedMs) : 0;
  return `scanned ${totals.files} files (${hours} h of audio, ${factor}× real time): ${totals.cards} card numbers in ${totals.filesWithCards} files, ${totals.errors} errors`;
}

export function summaryJson(totals: ScanTotals): string {
  const realTimeFactor = totals.elapsedMs > 0 ? Math.round(totals.audioMs / totals.elapsedMs) : 0;
  return JSON.stringify({ type: 'summary', ...totals, realTimeFactor });
}

/** One terminal line: a bar, files done of total, audio so far. Redrawn in place with `\r`. */
export function progressLine(done: number, total: number, audioMs: number, width = 30): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} files, ${(audioMs / 3_600_000).toFixed(2)} h audio`;
}
