import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileAuditTrail } from '../../src/audit/trail.js';
import { listTrailFiles, readTrailLines } from '../../src/audit/trail-files.js';
import { lastJsonLine, runCli } from '../helpers/cli.js';

const HMAC_KEY = 'cli-test-audit-key-0123456789abcdef';

async function trailIn(dataDir: string, records: number): Promise<string[]> {
  const dir = join(dataDir, 'audit');
  const trail = new FileAuditTrail({ dir, key: Buffer.from(HMAC_KEY), rotateBytes: 1_000, syncEachBatch: false });
  for (let i = 0; i < records; i++) trail.record({ action: 'capture.started', actor: { type: 'agent', id: `a${i}` }, outcome: 'success', resource: { type: 'capture', id: `cap_${i}` } });
  await trail.close();
  return listTrailFiles(dir).map((f) => f.path);
}

describe('toneguard audit verify', () => {
  it('exits 0 on an intact trail, 1 with file:line on a broken one, 2 on usage errors', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'toneguard-cli-audit-'));
    const env = { TONEGUARD_DATA_DIR: dataDir, TONEGUARD_AUDIT_HMAC_KEY: HMAC_KEY };
    const files = await trailIn(dataDir, 12);
    expect(files.length).toBeGreaterThan(2);

    const intact = runCli(['audit', 'verify'], { env });
    expect(intact.status, intact.stderr).toBe(0);
    expect(lastJsonLine(intact.stdout)).toMatchObject({ ok: true, records: 12, files: files.length });

    const one = runCli(['audit', 'verify', files[1]], { env });
    expect(one.status, one.stderr).toBe(0);

    const lines = readTrailLines(files[1]);
    writeFileSync(files[1], `${[lines[0], ...lines.slice(2)].join('\n')}\n`);
    const broken = runCli(['audit', 'verify'], { env });
    expect(broken.status).toBe(1);
    const name = files[1].split('/').pop();
    expect(broken.stderr).toMatch(new RegExp(`^${name}:2: `));
    expect(lastJsonLine(broken.stdout)).toMatchObject({ ok: false, file: name, line: 2 });

    expect(runCli(['audit', 'verify', 'a', 'b'], { env }).status).toBe(2);
    expect(runCli(['audit', 'verify', join(dataDir, 'nope.jsonl')], { env }).status).toBe(2);
  });
});
