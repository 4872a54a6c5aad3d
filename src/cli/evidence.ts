import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/index.js';
import { collectEvidence, evidencePasses } from '../evidence/collect.js';
import { renderEvidenceHtml } from '../evidence/html.js';
import { printPdf } from '../evidence/pdf.js';
import { summarizeEvidence, writeEvidenceSummary } from '../evidence/summary.js';
import { numberFlag, stringFlag, usageError, type ParsedArgs } from './args.js';

const USAGE = 'usage: toneguard evidence --out DIR [--recordings N] [--chromium PATH]';
const KNOWN_FLAGS = new Set(['out', 'recordings', 'chromium']);

/**
 * `toneguard evidence --out DIR`: runs the masking battery, verifies the audit chain and a sample
 * of recordings, lists key versions and the production checks, and writes `evidence.html` (self-
 * contained) and `evidence.pdf` (printed by Chromium; skipped with a clear line when it cannot be),
 * and leaves its digest in `{dataDir}/evidence/latest.json` for `GET /v1/evidence` (the desktop's evidence panel).
 * Exit 0 when the report passes, 1 when a battery check, the audit chain or a recording fails,
 * 2 on usage errors.
 */
export async function evidenceCommand(args: ParsedArgs): Promise<number> {
  for (const flag of args.flags.keys()) if (!KNOWN_FLAGS.has(flag)) throw usageError(`unknown option --${flag}; ${USAGE}`);
  if (args.positionals.length > 0) throw usageError(USAGE);
  const out = stringFlag(args, 'out', true);
  const recordingSample = numberFlag(args, 'recordings', 10);
  if (!Number.isInteger(recordingSample) || recordingSample < 0) throw usageError('--recordings must be a whole number');
  const config = loadConfig();
  const data = await collectEvidence(config, { recordingSample });
  const html = renderEvidenceHtml(data);
  const htmlPath = join(out, 'evidence.html');
  const pdfPath = join(out, 'evidence.pdf');
  try {
    mkdirSync(out, { recursive: true });
    writeFileSync(htmlPath, html);
  } catch {
    throw usageError(`cannot write the report into ${out}`);
  }
  writeEvidenceSummary(config.dataDir, summarizeEvidence(data));
  const pdf = await printPdf(html, pdfPath, stringFlag(args, 'chromium'));
  if (!pdf.ok) process.stderr.write(`evidence: PDF not written: ${pdf.reason}; the HTML report is at ${htmlPath}\n`);
  const pass = evidencePasses(data);
  process.stdout.write(
    `${JSON.stringify({
      pass,
      html: htmlPath,
      pdf: pdf.ok ? pdfPath : null,
      battery: { checks: data.battery.checks.length, failed: data.battery.checks.filter((c) => !c.pass).map((c) => c.name) },
      audit: 'result' in data.audit ? data.audit.result : { ok: false, reason: data.audit.error },
      configFingerprint: data.config.fingerprint,
      productionChecksFailed: data.config.checks.filter((c) => !c.pass).length,
      recordings: 'sample' in data.recordings ? { verified: data.recordings.sample.length, clean: data.recordings.sample.filter((s) => s.result.ok && s.result.clean).length } : { error: data.recordings.error },
    })}\n`,
  );
  return pass ? 0 : 1;
}
