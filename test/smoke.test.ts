import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { parseConfig } from '../src/config/index.js';
import { startServer, type RunningServer } from '../src/server.js';
import { silentLogger } from '../src/audit/logger.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('service skeleton', () => {
  let running: RunningServer;
  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tg-smoke-'));
    running = await startServer(parseConfig({ port: 0, host: '127.0.0.1', dataDir }), { logger: silentLogger() });
  });
  afterAll(() => running.close());

  it('answers health, readiness and metrics', async () => {
    await request(running.url).get('/healthz').expect(200, { status: 'ok' });
    await request(running.url).get('/readyz').expect(200);
    const metrics = await request(running.url).get('/metrics').expect(200);
    expect(metrics.text).toContain('toneguard_active_calls');
  });

  it('answers unknown routes with the JSON error shape', async () => {
    const res = await request(running.url).get('/nope').expect(404);
    expect(res.body).toEqual({ error: { code: 'not_found', message: 'no such route' } });
  });
});
