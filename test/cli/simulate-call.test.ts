import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { simulatorSettingsPath } from '../../src/cli/simulator-settings.js';
import { lastJsonLine, runCli } from '../helpers/cli.js';

const root = resolve(import.meta.dirname, '../..');

/** The environment with every Toneguard and Twilio variable removed: simulate-call must find the service by itself. */
function bareEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('TONEGUARD_') && !name.startsWith('TWILIO_')));
}

async function startDevService(dataDir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli.ts'), 'serve'], {
    cwd: root,
    env: { ...bareEnv(), TONEGUARD_PORT: '0', TONEGUARD_HOST: '127.0.0.1', TONEGUARD_DATA_DIR: dataDir, TONEGUARD_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  await new Promise<void>((done, fail) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('toneguard listening')) done();
    });
    child.once('exit', (code) => fail(new Error(`serve exited early with ${code}`)));
  });
  return child;
}

describe('simulate-call with no setup against a development service (slow, real service)', () => {
  const home = mkdtempSync(join(tmpdir(), 'toneguard-simulate-'));
  const dataDir = join(home, 'data');
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('reads the settings the service published in its data directory and completes a capture; says what is missing once the service is gone', async () => {
    const service = await startDevService(dataDir);
    const settingsFile = simulatorSettingsPath(dataDir);
    try {
      expect(statSync(settingsFile).mode & 0o777).toBe(0o600);
      // No variables; only the data directory (the default is ./data).
      const result = runCli(['simulate-call', '--data-dir', dataDir], { env: bareEnv() });
      expect(result.stderr).not.toContain('simulate-call:');
      expect(result.status).toBe(0);
      const summary = lastJsonLine<{ success: boolean; capture: { state: string; result: { token: string } } }>(result.stdout);
      expect(summary).toMatchObject({ success: true, capture: { state: 'complete' } });
      expect(summary.capture.result.token).toMatch(/^tok_/);
      expect(result.stdout + result.stderr).not.toContain('4111111111111111');
    } finally {
      const exited = new Promise((done) => service.once('exit', done));
      service.kill('SIGTERM');
      await exited;
    }
    expect(existsSync(settingsFile)).toBe(false);
    const gone = runCli(['simulate-call', '--data-dir', dataDir], { env: bareEnv() });
    expect(gone.status).toBe(2);
    expect(gone.stderr.trim().split('\n')).toHaveLength(1);
    expect(gone.stderr).toContain('no development service has published its settings');
  }, 120_000);
});
