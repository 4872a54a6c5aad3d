import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evidenceSummaryPath, readEvidenceSummary } from '../../src/evidence/summary.js';
import { lastJsonLine, runCli } from '../helpers/cli.js';

/** The demo call's card, and the parts of it that must never appear anywhere. */
const SECRETS = ['4111111111111111', '411111111111', '1230737'];

function expectNoSecrets(...outputs: (string | Buffer)[]): void {
  for (const output of outputs) {
    const text = Buffer.from(output).toString('latin1');
    for (const secret of SECRETS) expect(text.includes(secret)).toBe(false);
  }
}

interface Summary {
  pass: boolean;
  html: string;
  pdf: string | null;
  battery: { checks: number; failed: string[] };
  audit: { ok: boolean; records?: number };
  recordings: { verified: number; clean: number };
  configFingerprint: string;
}

describe('toneguard evidence on a data directory from a real call (slow, real Chromium)', () => {
  const home = mkdtempSync(join(tmpdir(), 'toneguard-evidence-'));
  const dataDir = join(home, 'data');
  const env = { TONEGUARD_DATA_DIR: dataDir };
  beforeAll(() => {
    const demo = runCli(['demo'], { env });
    expect(demo.status).toBe(0);
  }, 120_000);
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('writes a self-contained HTML report with every section and its figures, and a PDF printed by Chromium', () => {
    const out = join(home, 'report');
    const result = runCli(['evidence', '--out', out], { env });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const summary = lastJsonLine<Summary>(result.stdout);
    expect(summary).toMatchObject({ pass: true, html: join(out, 'evidence.html'), pdf: join(out, 'evidence.pdf'), battery: { failed: [] }, audit: { ok: true } });
    expect(summary.recordings.verified).toBeGreaterThanOrEqual(1);
    expect(summary.recordings.clean).toBe(summary.recordings.verified);

    const html = readFileSync(join(out, 'evidence.html'), 'utf8');
    for (const id of ['battery', 'audit', 'keys', 'config', 'recordings']) expect(html).toContain(`<h2 id="${id}">`);
    for (const figure of ['Detection against level', 'Detection against tone length', 'Detection against frequency offset', 'Masking leak per digit']) {
      expect(html).toContain(`<title>${figure}</title>`);
    }
    expect(html.match(/<svg /g)?.length).toBe(4);
    for (const check of ['Level range', 'Frequency tolerance', 'Tone duration', 'Masking leak', 'Independent decoder (multimon-ng)']) expect(html).toContain(check);
    expect(html).not.toContain('class="fail">FAIL</span> The');
    expect(html).toContain(summary.configFingerprint);
    expect(html).toMatch(/The hash chain is intact: \d+ records/);
    expect(html).toContain('.tgrec');
    expect(html).toContain('TLS'); // a production check, failing in this development configuration
    // Self-contained: no script, no external stylesheet, image or font.
    expect(html).not.toMatch(/<script|<link|<img|src=|url\(/i);

    const pdf = readFileSync(join(out, 'evidence.pdf'));
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g)?.length ?? 0).toBeGreaterThanOrEqual(1);
    expectNoSecrets(html, pdf, result.stdout, result.stderr);

    // The digest for GET /v1/evidence, beside the data it reports on, readable by the service's user only.
    expect(readEvidenceSummary(dataDir)).toMatchObject({
      pass: true,
      config: { fingerprint: summary.configFingerprint },
      audit: { verified: true },
      recordings: { sampled: summary.recordings.verified, verified: summary.recordings.clean },
    });
    expect(statSync(evidenceSummaryPath(dataDir)).mode & 0o777).toBe(0o600);
    expectNoSecrets(readFileSync(evidenceSummaryPath(dataDir)));
  }, 120_000);

  it('still writes the HTML, and says why in one line, when Chromium is missing', () => {
    const out = join(home, 'no-chromium');
    const result = runCli(['evidence', '--out', out, '--chromium', join(home, 'no-such-chromium'), '--recordings', '1'], { env });
    expect(result.status).toBe(0);
    expect(existsSync(join(out, 'evidence.html'))).toBe(true);
    expect(existsSync(join(out, 'evidence.pdf'))).toBe(false);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringContaining('evidence: PDF not written: Chromium is not installed at')]);
    expect(lastJsonLine<Summary>(result.stdout).pdf).toBeNull();
    expectNoSecrets(readFileSync(join(out, 'evidence.html')), result.stdout, result.stderr);
  }, 120_000);
});
