import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

describe('toneguard demo --watch (slow, real service)', () => {
  it('plays the scripted call, then stays up with the desktop and its simulator until Ctrl+C', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(root, 'src/cli.ts'), 'demo', '--watch'], {
      cwd: root,
      env: { ...process.env, TONEGUARD_DATA_DIR: mkdtempSync(join(tmpdir(), 'toneguard-watch-')) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    try {
      const desktop = await new Promise<string>((found, failed) => {
        child.stdout.on('data', () => {
          const match = /desktop: (http:\/\/127\.0\.0\.1:\d+\/desktop\/)/.exec(stdout);
          if (match && stdout.includes('press Ctrl+C to stop it')) found(match[1]);
        });
        void exited.then((code) => failed(new Error(`demo exited early (${code}): ${stdout}`)));
      });
      expect(stdout).toContain('OK: the agent heard no digits and received only a token');
      expect(stdout).toMatch(/press "Get dev token" as agent demo-agent/);
      const token = /development token for demo-agent: (\S+)/.exec(stdout)?.[1];
      expect((await fetch(desktop)).status).toBe(200);
      expect(await (await fetch(new URL('/desktop/settings.json', desktop))).json()).toMatchObject({ devTokens: true, simulator: { agentId: 'demo-agent' } });
      const me = await fetch(new URL('/v1/me', desktop), { headers: { authorization: `Bearer ${token}` } });
      expect(await me.json()).toMatchObject({ sub: 'demo-agent', roles: ['agent'] });
      expect(stdout).not.toContain('4111111111111111');
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  }, 90_000);
});
