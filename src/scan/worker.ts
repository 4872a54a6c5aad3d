import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parentPort } from 'node:worker_threads';
import { isToneguardError } from '../errors.js';
import { errnoSuffix } from './files.js';
import type { ScanJob, ScanOutcome } from './job.js';
import { scanRecording } from './scan-file.js';

/** Scan worker: one job in, one outcome out, for as long as the pool keeps it. */

function run(job: ScanJob): ScanOutcome {
  let bytes: Buffer;
  try {
    bytes = readFileSync(job.path);
  } catch (err) {
    return { ok: false, error: { code: 'scan_unreadable', message: `cannot read the file${errnoSuffix(err)}` } };
  }
  let result;
  try {
    result = scanRecording(bytes, job.headerless, { redact: job.redactTo !== undefined, nowMs: job.nowMs });
  } catch (err) {
    // Our own errors say what is wrong with the file; anything else is named only by its type, never its text.
    if (isToneguardError(err)) return { ok: false, error: { code: err.code, message: err.message } };
    return { ok: false, error: { code: 'scan_failed', message: `the file could not be scanned (${(err as Error)?.name ?? 'error'})` } };
  }
  const { redacted, ...scan } = result;
  if (!redacted || !job.redactTo) return { ok: true, scan };
  try {
    mkdirSync(dirname(job.redactTo), { recursive: true });
    writeFileSync(job.redactTo, redacted, { mode: 0o600 });
  } catch (err) {
    return { ok: false, error: { code: 'scan_redact_failed', message: `cannot write the redacted copy${errnoSuffix(err)}` } };
  }
  return { ok: true, scan, redactedTo: job.redactTo };
}

parentPort!.on('message', (job: ScanJob) => parentPort!.postMessage(run(job)));
