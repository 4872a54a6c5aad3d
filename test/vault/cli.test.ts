import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryAuditSink } from '../../src/audit/types.js';
import { parseConfig } from '../../src/config/index.js';
import { devKeyringPath, formatKek, openVault } from '../../src/vault/index.js';
import { runCli } from '../helpers/cli.js';
import { cardRequest, PROCESSOR, tempDir, VISA } from './helpers.js';

const lines = (stdout: string) => stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);

async function seed(dataDir: string, env: Record<string, unknown> = {}): Promise<string[]> {
  const { vault, warning } = openVault(parseConfig({ dataDir, ...env }), new MemoryAuditSink());
  const tokens = [];
  for (let i = 0; i < 3; i++) tokens.push((await vault.tokenize(cardRequest({ card_number: VISA, expiry: '1230' }))).token);
  await vault.close();
  expect(warning === null).toBe(Object.keys(env).length > 0);
  return tokens;
}

describe('toneguard keys', () => {
  it('generate creates the development keyring; rotate adds a version and re-wraps; list counts, never showing keys', async () => {
    const dataDir = tempDir();
    const env = { TONEGUARD_DATA_DIR: dataDir };
    const generated = runCli(['keys', 'generate'], { env });
    expect(generated.status).toBe(0);
    expect(lines(generated.stdout)).toEqual([{ file: devKeyringPath(dataDir), created: true }]);
    expect(generated.stderr).toContain('keys.generate');

    const tokens = await seed(dataDir);
    const listed = runCli(['keys', 'list'], { env });
    expect(lines(listed.stdout)).toEqual([expect.objectContaining({ version: 1, current: true, records: 3, subjectKeys: 0, createdAt: expect.any(String) })]);

    const rotated = runCli(['keys', 'rotate', '--batch-size', '2'], { env });
    expect(rotated.status).toBe(0);
    expect(lines(rotated.stdout)).toEqual([{ addedVersion: 2, toVersion: 2, rewrapped: 3, failed: 0 }]);
    expect(rotated.stderr).toContain('keys.rotate');

    const after = runCli(['keys', 'list'], { env });
    expect(lines(after.stdout).map((l) => [l.version, l.current, l.records])).toEqual([
      [1, false, 0],
      [2, true, 3],
    ]);
    const keyMaterial = JSON.parse(readFileSync(devKeyringPath(dataDir), 'utf8')) as { keks: { key: string }[] };
    for (const { key } of keyMaterial.keks) expect(after.stdout + after.stderr + rotated.stderr).not.toContain(key);

    const { vault } = openVault(parseConfig({ dataDir }), new MemoryAuditSink());
    expect((await vault.detokenize(tokens[0], { actor: PROCESSOR, processor: PROCESSOR.id })).info.keyVersion).toBe(2);
    await vault.close();
  });

  it('prints a version:base64 KEK for production and rotates a KEK file', async () => {
    const dataDir = tempDir();
    // Production audits key changes in the chained trail, so it needs the audit key.
    const audited = { TONEGUARD_DATA_DIR: dataDir, TONEGUARD_PROFILE: 'production', TONEGUARD_AUDIT_HMAC_KEY: 'a'.repeat(32) };
    const unaudited = runCli(['keys', 'generate'], { env: { TONEGUARD_DATA_DIR: dataDir, TONEGUARD_PROFILE: 'production' } });
    expect(unaudited.status).toBe(2);
    expect(unaudited.stdout).toBe('');
    expect(unaudited.stderr).toMatch(/TONEGUARD_AUDIT_HMAC_KEY/);
    const printed = runCli(['keys', 'generate'], { env: audited });
    expect(printed.status).toBe(0);
    expect(printed.stdout).toMatch(/^1:[A-Za-z0-9+/]{43}=\n$/);

    const kekFile = join(dataDir, 'keks.txt');
    // Without its trailing newline, to check that rotation does not glue two keys together.
    writeFileSync(kekFile, printed.stdout.trim(), { mode: 0o600 });
    const env = { ...audited, TONEGUARD_KEK_FILE: kekFile };
    await seed(dataDir, { profile: 'production', vault: { kekFile } });
    const rotated = runCli(['keys', 'rotate'], { env });
    expect(lines(rotated.stdout)).toEqual([{ addedVersion: 2, toVersion: 2, rewrapped: 3, failed: 0 }]);
    expect(readFileSync(kekFile, 'utf8').trim().split('\n').map((l) => l.split(':')[0])).toEqual(['1', '2']);
  });

  it('re-wraps to the newest configured KEK, and refuses production without one', () => {
    const dataDir = tempDir();
    const keks = [formatKek(1, randomBytes(32)), formatKek(2, randomBytes(32))].join(',');
    const rotated = runCli(['keys', 'rotate'], { env: { TONEGUARD_DATA_DIR: dataDir, TONEGUARD_KEKS: keks } });
    expect(lines(rotated.stdout)).toEqual([{ addedVersion: null, toVersion: 2, rewrapped: 0, failed: 0 }]);

    const refused = runCli(['keys', 'list'], { env: { TONEGUARD_DATA_DIR: dataDir, TONEGUARD_PROFILE: 'production' } });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/TONEGUARD_KEKS/);
  });
});
