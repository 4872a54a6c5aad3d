// slow: real services (Redis at 127.0.0.1:6379, two in-process limiters on one prefix, a cuttable TCP proxy)
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/audit/logger.js';
import { SharedRateLimitStore } from '../../src/cluster/rate-limit-store.js';
import type { RedisConnections } from '../../src/cluster/redis.js';
import { ipRateLimit } from '../../src/http/rate-limit.js';
import { testRedisPrefix } from '../helpers/redis.js';
import { eventually, redisConnections, startRedisProxy, type CuttableProxy } from './state-fixtures.js';

const prefix = testRedisPrefix('limit');
let proxy: CuttableProxy;
let direct: RedisConnections;
let proxied: RedisConnections;

/** One node's HTTP front: the per-address limit (3 a minute) counted in the given Redis. */
function node(redis: RedisConnections): express.Express {
  const app = express();
  app.use(ipRateLimit({ http: { requestsPerMinutePerIp: 3 } } as never, undefined, (name) => new SharedRateLimitStore(redis, name, silentLogger())));
  app.get('/', (_req, res) => void res.json({ ok: true }));
  return app;
}

beforeAll(async () => {
  proxy = await startRedisProxy();
  direct = await redisConnections(prefix.prefix);
  proxied = await redisConnections(prefix.prefix, proxy.url, 300);
});
afterAll(async () => {
  await direct.close();
  await proxied.close();
  await proxy.close();
  await prefix.clear();
});

describe('shared rate limits', () => {
  it('count one address across nodes, and fall back to a per-node limit while Redis is unreachable', async () => {
    const one = node(direct);
    const two = node(proxied);
    const statuses = [];
    for (const app of [one, two, one, two]) statuses.push((await request(app).get('/')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(await direct.command.keys(`${prefix.prefix}ratelimit:ip:*`)).toHaveLength(1);

    proxy.cut();
    await eventually(() => !proxied.healthy());
    const local = [];
    for (let i = 0; i < 4; i++) local.push((await request(two).get('/')).status);
    expect(local).toEqual([200, 200, 200, 429]);
    proxy.restore();
    await eventually(() => proxied.healthy());
    expect((await request(two).get('/')).status).toBe(429);
  });
});
