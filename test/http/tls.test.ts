import { connect, type SecureVersion } from 'node:tls';
import { request as httpsRequest } from 'node:https';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ http: { tls: { selfSigned: true } } });
});
afterAll(async () => {
  await server.close();
});

function handshake(version: SecureVersion): Promise<{ ok: true; protocol: string | null } | { ok: false; error: string }> {
  return new Promise((resolve) => {
    const socket = connect({
      host: '127.0.0.1',
      port: server.port,
      servername: 'localhost',
      rejectUnauthorized: false,
      minVersion: version,
      maxVersion: version,
      // Let the client offer old protocols at all, so the refusal is the server's.
      ciphers: 'DEFAULT@SECLEVEL=0',
    });
    socket.once('secureConnect', () => {
      resolve({ ok: true, protocol: socket.getProtocol() });
      socket.end();
    });
    socket.once('error', (err) => resolve({ ok: false, error: err.message }));
  });
}

describe('TLS termination (self-signed development certificate)', () => {
  it('serves HTTPS with HSTS', async () => {
    expect(server.url).toMatch(/^https:/);
    const res = await new Promise<{ status?: number; hsts?: string | string[] }>((resolve, reject) => {
      httpsRequest(`${server.url}/healthz`, { rejectUnauthorized: false }, (r) => {
        r.resume();
        resolve({ status: r.statusCode, hsts: r.headers['strict-transport-security'] });
      })
        .on('error', reject)
        .end();
    });
    expect(res.status).toBe(200);
    expect(res.hsts).toMatch(/max-age=31536000/);
  });

  it('accepts TLS 1.2 and 1.3', async () => {
    expect(await handshake('TLSv1.2')).toEqual({ ok: true, protocol: 'TLSv1.2' });
    expect(await handshake('TLSv1.3')).toEqual({ ok: true, protocol: 'TLSv1.3' });
  });

  it('refuses TLS 1.1 and 1.0', async () => {
    expect(await handshake('TLSv1.1')).toMatchObject({ ok: false, error: expect.stringMatching(/protocol version/) });
    expect(await handshake('TLSv1')).toMatchObject({ ok: false });
  });

  it('refuses TLS 1.2 suites without forward secrecy', async () => {
    const result = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: server.port, rejectUnauthorized: false, maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA:AES256-SHA:AES128-GCM-SHA256' });
      socket.once('secureConnect', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    expect(result).toBe(false);
  });

  it('routes WebSocket upgrades over the same TLS listener (wss://)', async () => {
    const outcome = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`wss://127.0.0.1:${server.port}/no-such-socket`, { rejectUnauthorized: false });
      ws.once('open', () => resolve('open'));
      ws.once('error', (err) => resolve(err.message));
    });
    // The TLS handshake and the upgrade went through; the router refused the unknown path.
    expect(outcome).toMatch(/Unexpected server response: 404/);
  });
});
