import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readAuditRecords, startTestServer } from '../helpers/server.js';

describe('graceful shutdown', () => {
  it('stops accepting, runs hooks last-registered first, then records service.stopped and closes the trail', async () => {
    const server = await startTestServer();
    const order: string[] = [];
    server.context.onShutdown(() => void order.push('vault'), 'vault');
    server.context.onShutdown(async () => {
      await new Promise((r) => setTimeout(r, 20));
      order.push('media');
    }, 'media');
    await server.close();
    expect(order).toEqual(['media', 'vault']);
    expect(server.context.ready()).toBe(false);
    const stopped = server.auditRecords().at(-1);
    expect(stopped).toMatchObject({ action: 'service.stopped', outcome: 'success', details: { unfinished: null } });
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });

  it('finishes within the bound when a hook hangs, and cuts connections still open', async () => {
    const server = await startTestServer({ http: { shutdownTimeoutMs: 300 } });
    server.context.onShutdown(() => new Promise(() => undefined), 'stuck');
    server.context.onShutdown(() => {
      throw new Error('boom');
    }, 'failing');
    const socket = connect(server.port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const socketClosed = new Promise((r) => socket.once('close', r));
    await server.close();
    await socketClosed;
    const stopped = server.auditRecords().at(-1);
    expect(stopped).toMatchObject({ action: 'service.stopped', outcome: 'failure' });
    expect(String(stopped?.details?.unfinished).split(',').slice(0, 2)).toEqual(['failing', 'stuck']);
    expect(server.logLines.some((l) => l.includes('shutdown hook failed'))).toBe(true);
  });

  it('close is idempotent', async () => {
    const server = await startTestServer();
    await Promise.all([server.close(), server.close()]);
    expect(server.auditRecords().filter((r) => r.action === 'service.stopped')).toHaveLength(1);
  });
});

describe('toneguard serve', () => {
  it('exits 0 on SIGTERM after recording service.stopped', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'toneguard-serve-'));
    const root = join(import.meta.dirname, '../..');
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli.ts'), 'serve'], {
      cwd: root,
      env: { ...process.env, TONEGUARD_PORT: '0', TONEGUARD_HOST: '127.0.0.1', TONEGUARD_DATA_DIR: dataDir, TONEGUARD_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('toneguard listening')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`serve exited early with ${code}`)));
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(readAuditRecords(dataDir).map((r) => r.action)).toEqual(['config.changed', 'service.started', 'service.stopped']);
  });
});
