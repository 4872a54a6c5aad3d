import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import express from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { identityRateLimit, WindowCounter } from '../../src/http/rate-limit.js';
import { createMessageRateLimiter, wsServerOptions } from '../../src/http/ws.js';
import { parseConfig } from '../../src/config/index.js';
import { listTrailFiles } from '../../src/audit/trail-files.js';
import { verifyChain } from '../../src/audit/verify.js';
import { errorHandler } from '../../src/http/errors.js';
import { createLogger, silentLogger } from '../../src/audit/logger.js';
import { Metrics } from '../../src/audit/metrics.js';
import { accessLog, MAX_LOGGED_PATH_CHARS } from '../../src/http/access-log.js';

let running: TestServer | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function start(overrides: Record<string, unknown> = {}) {
  running = await startTestServer(overrides);
  return running;
}

describe('security headers', () => {
  it('sends helmet headers with a self-only CSP and no HSTS over plain HTTP', async () => {
    const { http } = await start().then((s) => ({ http: request(s.url) }));
    const res = await http.get('/healthz').expect(200);
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['content-security-policy']).not.toMatch(/unsafe-inline|\*/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['strict-transport-security']).toBeUndefined();
  });
});

describe('body limits', () => {
  it('refuses a body over http.bodyLimitBytes with 413 JSON before reading it', async () => {
    const server = await start({ http: { bodyLimitBytes: 1024 } });
    const res = await request(server.url).post('/v1/anything').set('content-type', 'application/json').send({ pad: 'x'.repeat(2048) });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: { code: 'payload_too_large', message: 'request body is too large' } });
  });

  it('lets a body under the limit through to routing', async () => {
    const server = await start({ http: { bodyLimitBytes: 1024 } });
    await request(server.url).post('/v1/anything').send({ small: true }).expect(404);
  });
});

describe('CORS', () => {
  const origin = 'https://desk.example.com';

  it('answers allowed origins with their own origin, never *', async () => {
    const server = await start({ http: { corsOrigins: [origin] } });
    const res = await request(server.url).get('/healthz').set('origin', origin).expect(200);
    expect(res.headers['access-control-allow-origin']).toBe(origin);
    expect(res.headers.vary).toMatch(/Origin/);
    const preflight = await request(server.url).options('/v1/calls/CA1/captures').set('origin', origin).set('access-control-request-method', 'POST');
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-methods']).toContain('POST');
    expect(preflight.headers['access-control-allow-headers']).toContain('Authorization');
  });

  it('gives other origins no CORS headers and refuses their preflight', async () => {
    const server = await start({ http: { corsOrigins: [origin] } });
    const res = await request(server.url).get('/healthz').set('origin', 'https://evil.example').expect(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await request(server.url).options('/v1/detokenize').set('origin', 'https://evil.example').set('access-control-request-method', 'POST');
    expect(preflight.status).toBe(403);
    expect(preflight.body.error.code).toBe('cors_denied');
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('rate limits', () => {
  it('limits requests per IP with JSON 429s', async () => {
    const server = await start({ http: { requestsPerMinutePerIp: 3 } });
    for (let i = 0; i < 3; i++) await request(server.url).get('/v1/nothing').expect(404);
    const res = await request(server.url).get('/v1/nothing').expect(429);
    expect(res.body).toEqual({ error: { code: 'rate_limited', message: 'too many requests from this address' } });
    expect(res.headers['ratelimit-policy']).toBeDefined();
    await request(server.url).get('/healthz').expect(200);
  });

  it('limits per identity, independently for each identity', async () => {
    const app = express();
    app.use((req, _res, next) => {
      (req as unknown as { agent?: string }).agent = req.get('x-agent');
      next();
    });
    app.post('/captures', identityRateLimit({ windowMs: 60_000, limit: 2, key: (req) => (req as unknown as { agent?: string }).agent }), (_req, res) => {
      res.status(201).json({ ok: true });
    });
    app.use(errorHandler(silentLogger()));
    const agent = request(app);
    await agent.post('/captures').set('x-agent', 'alice').expect(201);
    await agent.post('/captures').set('x-agent', 'alice').expect(201);
    const limited = await agent.post('/captures').set('x-agent', 'alice').expect(429);
    expect(limited.body.error.code).toBe('rate_limited');
    await agent.post('/captures').set('x-agent', 'bob').expect(201);
  });
});

describe('window counter (upgrades, failed logins)', () => {
  it('counts per key, starts again each window, and shares one bucket beyond its key budget', () => {
    let now = 0;
    const counter = new WindowCounter(60_000, () => now);
    expect([counter.add('a'), counter.add('a'), counter.add('b')]).toEqual([1, 2, 1]);
    expect(counter.msUntilReset()).toBe(60_000);
    now = 59_999;
    expect(counter.count('a')).toBe(2);
    now = 60_000;
    expect(counter.count('a')).toBe(0);
    for (let i = 0; i < 10_000; i++) counter.add(`k${i}`);
    expect([counter.add('late-1'), counter.add('late-2')]).toEqual([1, 2]);
  });
});

describe('WebSocket helpers', () => {
  it('bound frames and disable compression', () => {
    const config = parseConfig({ media: { maxPayloadBytes: 4096 } });
    expect(wsServerOptions(config)).toEqual({ noServer: true, maxPayload: 4096, perMessageDeflate: false });
  });

  it('limit messages per second per connection, refilling over time', () => {
    let now = 0;
    const limiter = createMessageRateLimiter(5, () => now);
    const burst = Array.from({ length: 7 }, () => limiter.allow());
    expect(burst).toEqual([true, true, true, true, true, false, false]);
    now += 400;
    expect([limiter.allow(), limiter.allow(), limiter.allow()]).toEqual([true, true, false]);
    now += 10_000;
    expect(Array.from({ length: 6 }, () => limiter.allow()).filter(Boolean)).toHaveLength(5);
  });
});

describe('access log', () => {
  const accessLines = (server: TestServer) => server.logLines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'http');

  it('logs method, route, status and duration for an unmatched path, never the path itself, the query string or body', async () => {
    const server = await start();
    await request(server.url).post('/v1/nothing-here?pan=4111111111111111&token=abc').send({ cvv: '123', note: 'secret-body' }).expect(404);
    const access = accessLines(server);
    expect(access).toEqual([expect.objectContaining({ method: 'POST', route: 'unmatched', status: 404, durationMs: expect.any(Number) })]);
    expect(access[0]).not.toHaveProperty('path');
    const all = server.logLines.join('');
    expect(all).not.toMatch(/\?|nothing-here|4111111111111111|token=abc|secret-body/);
  });

  it('logs only the route pattern when a matched route refuses the request', async () => {
    const server = await start();
    await request(server.url).get(`/v1/captures/4111111111111111${'x'.repeat(4000)}`).expect(401);
    const [line] = accessLines(server);
    expect(line).toMatchObject({ route: '/v1/captures/:id', status: 401 });
    expect(line).not.toHaveProperty('path');
    expect(await server.context.metrics.render()).toMatch(/toneguard_log_scrubber_hits_total 0/);
  });

  describe('an answered request', () => {
    function appWithAccessLog() {
      const lines: string[] = [];
      const app = express();
      app.use(accessLog(createLogger({ destination: { write: (line: string) => void lines.push(line) } }), new Metrics()));
      app.get('/items/:id', (_req, res) => void res.json({ ok: true }));
      return { app, lines: () => lines.map((l) => JSON.parse(l)) };
    }

    it('logs its path, cut to the cap', async () => {
      const { app, lines } = appWithAccessLog();
      await request(app).get(`/items/${'x'.repeat(4000)}?q=1`).expect(200);
      const [line] = lines();
      expect(line).toMatchObject({ route: '/items/:id', status: 200 });
      expect(line.path.length).toBeLessThanOrEqual(MAX_LOGGED_PATH_CHARS + 1);
    });

    it('never cuts a path inside a card number: it is kept whole and masked, or dropped', async () => {
      const { app, lines } = appWithAccessLog();
      const pad = 'x'.repeat(MAX_LOGGED_PATH_CHARS - '/items/'.length - 8);
      await request(app).get(`/items/${pad}4111111111111111`).expect(200);
      await request(app).get(`/items/4111111111111111`).expect(200);
      const [cut, whole] = lines();
      expect(cut.path).toMatch(/x…$/);
      expect(whole.path).toBe('/items/[REDACTED:pan]');
    });
  });
});

describe('audit wiring', () => {
  it('records service start and stop in a verifiable trail', async () => {
    const server = await start();
    const dir = join(server.dataDir, 'audit');
    await server.close();
    running = undefined;
    const files = listTrailFiles(dir).map((f) => f.path);
    expect(server.auditRecords().map((r) => r.action)).toEqual(['config.changed', 'service.started', 'service.stopped']);
    const key = Buffer.from(readFileSync(join(server.dataDir, 'keys', 'audit-hmac.key'), 'utf8'), 'base64');
    expect(verifyChain(key, files).ok).toBe(true);
  });

  it('counts a scrubber hit and raises an alert', async () => {
    const server = await start();
    server.context.logger.info({ note: 'oops 4111 1111 1111 1111' }, 'leak');
    server.context.logger.info({ note: 'again 5555-5555-5555-4444' }, 'leak');
    await new Promise((r) => setImmediate(r));
    const metrics = await server.context.metrics.render();
    expect(metrics).toMatch(/toneguard_log_scrubber_hits_total 2/);
    expect(metrics).toMatch(/toneguard_alerts_total\{rule="log_scrubber_hit"\} 1/);
    expect(server.logLines.join('')).not.toMatch(/4111 1111|5555-5555/);
    expect(server.auditRecords().filter((r) => r.action === 'alert.raised')).toEqual([expect.objectContaining({ details: expect.objectContaining({ rule: 'log_scrubber_hit', count: 2 }) })]);
  });
});
