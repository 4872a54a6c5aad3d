import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { EvidenceSummary } from '../agent/contract.js';
import { ToneguardError } from '../errors.js';
import { evidencePasses, type EvidenceData } from './collect.js';

/** Where the last `toneguard evidence` run leaves its digest for `GET /v1/evidence`. */
export const evidenceSummaryPath = (dataDir: string): string => join(dataDir, 'evidence', 'latest.json');

/** The report reduced to verdicts and counts: paths, measured values and error texts stay in the report itself. */
export function summarizeEvidence(data: EvidenceData): EvidenceSummary {
  const checks = data.config.checks.filter((c) => c.pass).length;
  return {
    generatedAt: data.generatedAt,
    build: { version: data.build.version },
    pass: evidencePasses(data),
    battery: { checks: data.battery.checks.map((c) => ({ name: c.name, pass: c.pass })) },
    audit: 'result' in data.audit && data.audit.result.ok ? { verified: true, records: data.audit.result.records } : { verified: false, records: null },
    keyVersions: 'versions' in data.keys ? data.keys.versions.length : null,
    config: { fingerprint: data.config.fingerprint, checksPassed: checks, checksFailed: data.config.checks.length - checks },
    recordings:
      'sample' in data.recordings
        ? { total: data.recordings.total, sampled: data.recordings.sample.length, verified: data.recordings.sample.filter((s) => s.result.ok && s.result.clean).length }
        : null,
  };
}

/** Replaces the digest whole (temporary file, then rename), readable by the service's user only. */
export function writeEvidenceSummary(dataDir: string, summary: EvidenceSummary): string {
  const path = evidenceSummaryPath(dataDir);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(summary)}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(temporary, path);
  return path;
}

const count = z.int().min(0);
const summarySchema: z.ZodType<EvidenceSummary> = z.object({
  generatedAt: z.iso.datetime(),
  build: z.object({ version: z.string() }),
  pass: z.boolean(),
  battery: z.object({ checks: z.array(z.object({ name: z.string(), pass: z.boolean() })) }),
  audit: z.object({ verified: z.boolean(), records: count.nullable() }),
  keyVersions: count.nullable(),
  config: z.object({ fingerprint: z.string(), checksPassed: count, checksFailed: count }),
  recordings: z.object({ total: count, sampled: count, verified: count }).nullable(),
});

/** The last digest, or null when `toneguard evidence` has not run against this data directory. */
export function readEvidenceSummary(dataDir: string): EvidenceSummary | null {
  let text: string;
  try {
    text = readFileSync(evidenceSummaryPath(dataDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ToneguardError('evidence_unreadable', 'the evidence summary could not be read', 500);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const parsed = summarySchema.safeParse(value);
  if (!parsed.success) throw new ToneguardError('evidence_unreadable', 'the evidence summary is not valid; run toneguard evidence again', 500);
  return parsed.data;
}
