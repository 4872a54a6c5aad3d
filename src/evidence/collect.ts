import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { auditDir, resolveAuditKey } from '../audit/audit-key.js';
import { verifyAuditTrail } from '../audit/export.js';
import { RECORDS_TABLE, verifyPgAuditTrail } from '../audit/pg/read.js';
import { listTrailFiles } from '../audit/trail-files.js';
import type { VerifyResult } from '../audit/verify.js';
import { PRODUCTION_CHECKS, type Config } from '../config/index.js';
import { isClusterMode } from '../config/cluster.js';
import { configFingerprint } from '../config/fingerprint.js';
import { createPool } from '../db/pool.js';
import { isToneguardError } from '../errors.js';
import { recordingsDir } from '../media/index.js';
import { verifyRecording, type RecordingVerification } from '../media/recording-verify.js';
import { listKeyVersions, type KeyVersionLine } from '../vault/key-versions.js';
import { devKeyringPath, loadKeyring } from '../vault/index.js';
import { runBattery, type Battery } from './battery.js';

/** Everything the evidence report shows, gathered on this build against this configuration and data directory. */
export interface EvidenceData {
  generatedAt: string;
  build: { version: string; node: string; platform: string };
  profile: string;
  battery: Battery;
  /** `dir` names where the trail is: its folder, or the PostgreSQL table a cluster's nodes share (then `files` is 0). */
  audit: { dir: string; files: number; result: VerifyResult } | { dir: string; error: string };
  keys: { versions: KeyVersionLine[] } | { error: string };
  config: { fingerprint: string; checks: { name: string; pass: boolean; problem?: string }[] };
  recordings: { dir: string; total: number; sample: { file: string; modified: string; result: RecordingVerification }[] } | { dir: string; error: string };
}

/** A failure described without its detail when it is not one of ours: a foreign message may quote anything. */
const describe = (err: unknown): string => (isToneguardError(err) ? `${err.code}: ${err.message}` : `${(err as Error)?.name ?? 'error'}`);

function packageVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

async function auditEvidence(config: Config): Promise<EvidenceData['audit']> {
  if (isClusterMode(config)) return clusterAuditEvidence(config, config.cluster.databaseUrl as string);
  const dir = auditDir(config);
  try {
    const files = listTrailFiles(dir).length;
    if (files === 0) return { dir, error: 'no audit trail files' };
    return { dir, files, result: verifyAuditTrail(dir, resolveAuditKey(config, { create: false }).key) };
  } catch (err) {
    return { dir, error: describe(err) };
  }
}

/** A cluster's one chain, in PostgreSQL. */
async function clusterAuditEvidence(config: Config, url: string): Promise<EvidenceData['audit']> {
  const dir = `PostgreSQL table ${RECORDS_TABLE}`;
  const pool = createPool({ url, size: 1 });
  try {
    return { dir, files: 0, result: await verifyPgAuditTrail(pool, resolveAuditKey(config, { create: false }).key) };
  } catch (err) {
    return { dir, error: describe(err) };
  } finally {
    await pool.end();
  }
}

/** The newest `sample` recordings, each decrypted and scanned for DTMF. */
function recordingEvidence(config: Config, sample: number): EvidenceData['recordings'] {
  const dir = recordingsDir(config);
  let files: { path: string; mtimeMs: number }[];
  try {
    files = readdirSync(dir)
      .filter((name) => name.endsWith('.tgrec'))
      .map((name) => ({ path: join(dir, name), mtimeMs: statSync(join(dir, name)).mtimeMs }))
      .sort((a, b) => b.mtimeMs - a.mtimeMs);
  } catch (err) {
    // Nothing recorded yet (or recording is off): nothing to verify, which is not a failure.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { dir, total: 0, sample: [] };
    return { dir, error: describe(err) };
  }
  if (files.length > 0 && !keyringPresent(config)) return { dir, error: 'no keyring to decrypt the recordings with' };
  try {
    const { keyring } = loadKeyring(config, { dataDir: config.dataDir, profile: config.profile });
    return {
      dir,
      total: files.length,
      sample: files.slice(0, sample).map((f) => ({ file: basename(f.path), modified: new Date(f.mtimeMs).toISOString(), result: verifyRecording(f.path, keyring) })),
    };
  } catch (err) {
    return { dir, error: describe(err) };
  }
}

/** A report must not create what it reports on: in development, the keyring is generated on first use. */
function keyringPresent(config: Config): boolean {
  return config.vault.keks.length > 0 || config.vault.kekFile !== null || existsSync(devKeyringPath(config.dataDir));
}

export async function collectEvidence(config: Config, options: { recordingSample: number }): Promise<EvidenceData> {
  let keys: EvidenceData['keys'];
  try {
    keys = keyringPresent(config) ? { versions: await listKeyVersions(config) } : { error: `no keyring: ${config.dataDir} holds no development keyring and none is configured` };
  } catch (err) {
    keys = { error: describe(err) };
  }
  return {
    generatedAt: new Date().toISOString(),
    build: { version: packageVersion(), node: process.version, platform: `${process.platform}-${process.arch}` },
    profile: config.profile,
    battery: runBattery(),
    audit: await auditEvidence(config),
    keys,
    config: {
      fingerprint: configFingerprint(config),
      checks: PRODUCTION_CHECKS.map((check) => {
        const problems = check.problems(config);
        return problems.length === 0 ? { name: check.name, pass: true } : { name: check.name, pass: false, problem: problems.join('; ') };
      }),
    },
    recordings: recordingEvidence(config, options.recordingSample),
  };
}

/** The report's verdict: the battery passes, the audit chain is intact, and every sampled recording is clean. */
export function evidencePasses(data: EvidenceData): boolean {
  const battery = data.battery.checks.every((c) => c.pass);
  const audit = 'result' in data.audit && data.audit.result.ok;
  const recordings = 'sample' in data.recordings && data.recordings.sample.every((s) => s.result.ok && s.result.clean);
  return battery && audit && recordings;
}
