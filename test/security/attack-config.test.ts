import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { SignJWT } from 'jose';
import { deepMerge, parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/audit/logger.js';
import { loadDevIssuerKey } from '../../src/agent/dev-issuer.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { startAgentApi, type AgentApi } from '../agent/fixtures.js';
import { completeProductionConfig } from '../helpers/production.js';

/** Starts the service on a free port with captured log lines, without the test helper's explicit host. */
async function start(overrides: Record<string, unknown>): Promise<{ running: RunningServer; logLines: string[] }> {
  const logLines: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => void logLines.push(line) } });
  const config = parseConfig(deepMerge({ port: 0, dataDir: join(mkdtempSync(join(tmpdir(), 'toneguard-attack-')), 'data') }, overrides));
  return { running: await startServer(config, { logger }), logLines };
}

describe('the development listener stays on loopback (issue 12, item 7h)', () => {
  it('binds 127.0.0.1 unless told otherwise, and the warning says so', async () => {
    const { running, logLines } = await start({});
    try {
      expect((running.server.address() as AddressInfo).address).toBe('127.0.0.1');
      expect(logLines.join('')).toMatch(/DEVELOPMENT ONLY: the development token issuer is ON: POST \/v1\/dev\/token mints any role .* bound to 127\.0\.0\.1 only \(TONEGUARD_HOST changes that\)/);
    } finally {
      await running.close();
    }
  });

  it('binds every interface when host says so, and warns that anyone can mint tokens', async () => {
    const { running, logLines } = await start({ host: '0.0.0.0' });
    try {
      expect((running.server.address() as AddressInfo).address).toBe('0.0.0.0');
      expect(logLines.join('')).toMatch(/development token issuer is ON and the listener is bound to 0\.0\.0\.0: anyone who reaches the port can mint any role/);
    } finally {
      await running.close();
    }
  });

  it('production, which has no dev issuer, still listens on every interface by default', async () => {
    const { running } = await start({ ...completeProductionConfig(), port: 0 });
    try {
      expect((running.server.address() as AddressInfo).address).toBe('0.0.0.0');
    } finally {
      await running.close();
    }
  });
});

describe('agent API answers are never cached (issue 12, item 7i)', () => {
  let api: AgentApi;
  beforeAll(async () => {
    api = await startAgentApi({ http: { bodyLimitBytes: 1024, requestsPerMinutePerIp: 12 } });
  });
  afterAll(() => api.close());

  it('every /v1 answer, success or error, carries Cache-Control: no-store', async () => {
    const agent = await api.bearer('alice', 'agent');
    const admin = await api.bearer('root', 'admin');
    const answers = [
      await request(api.server.url).post('/v1/dev/token').send({ sub: 'alice', role: 'agent' }).expect(201),
      await request(api.server.url).get('/v1/me').set('authorization', agent).expect(200),
      await request(api.server.url).get('/v1/admin/config').set('authorization', admin).expect(200),
      await request(api.server.url).get('/v1/me').expect(401),
      await request(api.server.url).get('/v1/audit').set('authorization', agent).expect(403),
      await request(api.server.url).get('/v1/captures/nope').set('authorization', agent).expect(404),
      await request(api.server.url).get('/v1/no-such-route').expect(404),
      await request(api.server.url).post('/v1/calls/CA1/captures').set('authorization', agent).set('content-type', 'application/json').send('x'.repeat(2048)).expect(413),
      await request(api.server.url).post('/v1/detokenize').send({}),
    ];
    expect(answers.map((res) => `${res.status} ${res.headers['cache-control']}`)).toEqual(answers.map((res) => `${res.status} no-store`));
    let limited: request.Response | undefined;
    for (let i = 0; i < 20 && !limited; i++) {
      const res = await request(api.server.url).get('/v1/me');
      if (res.status === 429) limited = res;
    }
    expect(limited?.headers['cache-control']).toBe('no-store');
  });
});

describe('a token issued in the future is refused (issue 12, item 7i)', () => {
  let api: AgentApi;
  const tolerance = 30;
  beforeAll(async () => {
    api = await startAgentApi({ auth: { clockToleranceSec: tolerance } });
  });
  afterAll(() => api.close());

  const devToken = (iat: number) => {
    const { config } = api.server.context;
    const key = loadDevIssuerKey(config.dataDir);
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ roles: ['agent'] })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
      .setSubject('alice')
      .setIssuer(config.auth.issuer)
      .setAudience(config.auth.audience)
      .setIssuedAt(now + iat)
      .setExpirationTime(now + iat + 600)
      .sign(key.privateKey);
  };

  it('iat beyond the clock tolerance → 401, auth.failed issued_in_future', async () => {
    const before = api.lastSeq();
    await request(api.server.url).get('/v1/me').set('authorization', `Bearer ${await devToken(tolerance * 10)}`).expect(401);
    expect(api.auditSince(before).find((r) => r.action === 'auth.failed')?.details).toMatchObject({ reason: 'issued_in_future' });
  });

  it('iat within the clock tolerance (a slightly fast IdP clock) → 200', async () => {
    await request(api.server.url).get('/v1/me').set('authorization', `Bearer ${await devToken(tolerance / 3)}`).expect(200);
  });
});

describe('slow request headers are cut at http.headersTimeoutMs (issue 12, item 7i)', () => {
  it('defaults to the documented 15 s', () => {
    expect(parseConfig({}).http.headersTimeoutMs).toBe(15_000);
  });

  it('a client that never finishes its headers is disconnected soon after the limit, not at Node’s 30 s sweep', async () => {
    const headersTimeoutMs = 300;
    const { running } = await start({ host: '127.0.0.1', http: { headersTimeoutMs } });
    try {
      const socket = connect(running.port, '127.0.0.1');
      await once(socket, 'connect');
      const startedAt = performance.now();
      socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      // A header byte now and then keeps the socket busy, so only the headers timeout can end it.
      const drip = setInterval(() => socket.write('X'), 50);
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
      // A drip written after the cut may fail (EPIPE); only the close matters here.
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) => socket.once('close', () => resolve()));
      clearInterval(drip);
      const elapsed = performance.now() - startedAt;
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
      expect(elapsed).toBeGreaterThanOrEqual(headersTimeoutMs * 0.9);
      // Bound, not exact time: without a tighter sweep Node cuts at its 30 s check.
      expect(elapsed).toBeLessThan(headersTimeoutMs + 5_000);
    } finally {
      await running.close();
    }
  }, 45_000);

  it('a TLS client that never finishes its handshake is cut at the same limit, not at the TLS default of 120 s', async () => {
    const headersTimeoutMs = 300;
    const { running } = await start({ host: '127.0.0.1', http: { headersTimeoutMs, tls: { selfSigned: true } } });
    try {
      const socket = connect(running.port, '127.0.0.1');
      await once(socket, 'connect');
      socket.on('error', () => undefined);
      const startedAt = performance.now();
      // A handshake record announcing 16 KB that arrives a byte at a time: a handshake that never ends.
      socket.write(Buffer.from([0x16, 0x03, 0x01, 0x3f, 0xff]));
      const drip = setInterval(() => socket.write(Buffer.from([0x00])), 50);
      // Not events.once: it rejects when the cut arrives as a reset (ECONNRESET) before 'close'.
      await new Promise<void>((resolve) => socket.once('close', () => resolve()));
      clearInterval(drip);
      expect(performance.now() - startedAt).toBeLessThan(headersTimeoutMs + 5_000);
    } finally {
      await running.close();
    }
  }, 45_000);
});
