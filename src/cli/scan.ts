import { availableParallelism } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { isAudioEncoding } from '../dsp/index.js';
import { listScanTargets, type ScanTarget } from '../scan/files.js';
import type { ScanOutcome } from '../scan/job.js';
import { ScanPool } from '../scan/pool.js';
import type { HeaderlessFormat } from '../scan/recording.js';
import { cardLine, errorLine, fileJson, progressLine, summaryJson, summaryLine, type ScanTotals } from '../scan/report.js';
import { numberFlag, stringFlag, usageError, type ParsedArgs } from './args.js';

const USAGE = 'usage: toneguard scan PATH... [--json] [--redact OUTDIR] [--encoding pcmu|pcma|l16 --rate HZ] [--jobs N]';
const KNOWN_FLAGS = new Set(['json', 'redact', 'encoding', 'rate', 'jobs']);

function headerlessFormat(args: ParsedArgs): HeaderlessFormat | undefined {
  const encoding = stringFlag(args, 'encoding');
  if (encoding === undefined) {
    if (args.flags.has('rate')) throw usageError('--rate applies to headerless files: give --encoding too');
    return undefined;
  }
  if (!isAudioEncoding(encoding)) throw usageError('--encoding must be pcmu, pcma or l16');
  const sampleRate = numberFlag(args, 'rate', 8000);
  if (!Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 384_000) throw usageError('--rate must be a whole number of Hz from 8000 to 384000');
  return { encoding, sampleRate };
}

interface Printer {
  file(target: ScanTarget, outcome: ScanOutcome): void;
  missing(path: string, reason: string): void;
  progress(done: number, total: number, audioMs: number): void;
  summary(totals: ScanTotals): void;
}

/** Results on stdout; errors (one line each) and the progress bar on stderr, the bar only on a terminal. */
function printer(json: boolean): Printer {
  const bar = process.stderr.isTTY === true;
  let barShown = false;
  const clearBar = () => {
    if (barShown) process.stderr.write('\r\x1b[K');
    barShown = false;
  };
  const err = (line: string) => {
    clearBar();
    process.stderr.write(`${line}\n`);
  };
  const out = (line: string) => {
    clearBar();
    process.stdout.write(`${line}\n`);
  };
  return {
    file(target, outcome) {
      if (!outcome.ok) err(errorLine(target.path, outcome.error));
      else if (outcome.scan.truncated) err(errorLine(target.path, { code: 'scan_truncated', message: outcome.scan.truncated }));
      if (json) out(fileJson(target.path, outcome));
      else if (outcome.ok) for (const card of outcome.scan.cards) out(cardLine(target.path, card));
    },
    missing(path, reason) {
      const error = { code: 'scan_unreadable', message: reason };
      err(errorLine(path, error));
      if (json) out(JSON.stringify({ type: 'file', file: path, ok: false, error }));
    },
    progress(done, total, audioMs) {
      if (!bar) return;
      process.stderr.write(progressLine(done, total, audioMs));
      barShown = true;
    },
    summary(totals) {
      out(json ? summaryJson(totals) : summaryLine(totals));
    },
  };
}

/**
 * `toneguard scan PATH...`: finds keyed card numbers in recordings on every core. Prints, per card,
 * the file, channel, offsets, brand and last four; never the number, expiry or CVV.
 * Exit 0 nothing found, 1 card numbers found, 2 a file could not be (fully) scanned or usage.
 */
export async function scanCommand(args: ParsedArgs): Promise<number> {
  if (args.positionals.length === 0) throw usageError(USAGE);
  for (const flag of args.flags.keys()) if (!KNOWN_FLAGS.has(flag)) throw usageError(`unknown option --${flag}; ${USAGE}`);
  const headerless = headerlessFormat(args);
  const redactDir = stringFlag(args, 'redact');
  const jobs = numberFlag(args, 'jobs', availableParallelism());
  if (!Number.isInteger(jobs) || jobs < 1) throw usageError('--jobs must be a whole number of at least 1');
  const print = printer(args.flags.get('json') === true);
  const started = performance.now();
  const listed = listScanTargets(args.positionals, headerless !== undefined);
  const targets = listed.flatMap((l) => ('target' in l ? [l.target] : []));
  const totals: ScanTotals = { files: targets.length, errors: 0, filesWithCards: 0, cards: 0, audioMs: 0, elapsedMs: 0 };
  for (const l of listed) {
    if ('missing' in l) {
      print.missing(l.missing, l.reason);
      totals.errors++;
    }
  }
  const pool = new ScanPool(Math.max(1, Math.min(jobs, targets.length)));
  const outcomes: (ScanOutcome | undefined)[] = new Array(targets.length);
  let printed = 0;
  let done = 0;
  const nowMs = Date.now();
  try {
    await Promise.all(
      targets.map(async (target, i) => {
        const redactTo = redactDir === undefined ? undefined : join(redactDir, target.outputName);
        if (redactTo !== undefined && resolve(redactTo) === resolve(target.path)) {
          outcomes[i] = { ok: false, error: { code: 'scan_redact_failed', message: 'the redacted copy would overwrite the recording itself' } };
        } else {
          // A file named .wav must be a WAV; --encoding describes the headerless ones.
          const raw = headerless && extname(target.path).toLowerCase() !== '.wav' ? { headerless } : {};
          outcomes[i] = await pool.scan({ path: target.path, nowMs, ...raw, ...(redactTo ? { redactTo } : {}) });
        }
        const outcome = outcomes[i]!;
        done++;
        if (!outcome.ok || outcome.scan.truncated) totals.errors++;
        if (outcome.ok) {
          totals.audioMs += outcome.scan.durationMs;
          totals.cards += outcome.scan.cards.length;
          if (outcome.scan.cards.length > 0) totals.filesWithCards++;
        }
        // Results come out in the order the files were listed, whatever order the workers finish in.
        while (printed < targets.length && outcomes[printed]) print.file(targets[printed], outcomes[printed++]!);
        print.progress(done, targets.length, totals.audioMs);
      }),
    );
  } finally {
    await pool.close();
  }
  totals.elapsedMs = Math.round(performance.now() - started);
  print.summary(totals);
  if (totals.errors > 0) return 2;
  return totals.cards > 0 ? 1 : 0;
}
