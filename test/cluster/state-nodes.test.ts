// slow: real services (three in-process Toneguard nodes in cluster mode on the machine's Redis, a cuttable TCP proxy)
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRedisPrefix } from '../helpers/redis.js';
import type { TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/twilio.js';
import { startRedisProxy, type CuttableProxy } from './state-fixtures.js';
import { bearer, EventsSocket, startClusterNodes } from './state-nodes.js';
import { createMigratedTestDatabase, type TestDatabase } from '../helpers/postgres.js';

const redisPrefix = testRedisPrefix('nodes');
let proxy: CuttableProxy;
let a: TestServer;
let b: TestServer;
let c: TestServer;
const CALL = 'CA00000000000000000000000000c1a001';

let db: TestDatabase;

beforeAll(async () => {
  proxy = await startRedisProxy();
  db = await createMigratedTestDatabase('nodes');
  [a, b, c] = await startClusterNodes(['node-a', 'node-b', 'node-c'], redisPrefix.prefix, db.url, {
    redisUrl: { 'node-b': proxy.url },
    overrides: { http: { captureStartsPerMinutePerAgent: 3 } },
  });
  a.context.calls.upsert({ callSid: CALL, agentId: 'alice', state: 'bridged', startedAt: new Date().toISOString(), node: 'node-a' });
  await waitFor(() => b.context.calls.get(CALL) && c.context.calls.get(CALL));
}, 60_000);

afterAll(async () => {
  for (const server of [a, b, c]) await server?.close();
  await proxy?.close();
  await redisPrefix.clear();
  await db?.drop();
});

describe('agents on any node (cluster mode)', () => {
  let captureId: string;

  it('starts a capture through node B on a call pinned to node A: the session runs on A, views reach an events socket on C', async () => {
    const watcher = await EventsSocket.open(c, 'alice');
    await waitFor(() => watcher.calls().includes(CALL));
    const started = await request(b.url).post(`/v1/calls/${CALL}/captures`).set('authorization', await bearer(b, 'alice')).send({ fields: ['card_number'] }).expect(201);
    captureId = started.body.id;
    expect(started.body.view).toMatchObject({ callSid: CALL, state: 'active' });
    expect(a.context.captures.get(captureId)).toBeDefined();
    expect(b.context.captures.get(captureId)).toBeUndefined();
    await waitFor(() => watcher.latest(captureId));

    const again = await request(c.url).post(`/v1/calls/${CALL}/captures`).set('authorization', await bearer(c, 'alice')).send({ fields: ['card_number'] }).expect(409);
    expect(again.body.error.code).toBe('capture_active');

    const session = a.context.captures.get(captureId)!;
    for (const digit of '4111111111111111') session.press(digit as '4', 0, 'event');
    const seen = await waitFor(() => {
      const view = watcher.latest(captureId);
      return view?.fields[0].digitCount === 16 ? view : undefined;
    });
    expect(seen.fields[0]).toMatchObject({ name: 'card_number', digitCount: 16 });
    expect(JSON.stringify(watcher.events)).not.toContain('4111111111111111');
    watcher.close();
  });

  it('answers GET for the capture on every node, and refuses another agent on a node that does not hold it', async () => {
    for (const server of [a, b, c]) {
      const res = await waitFor(async () => {
        const got = await request(server.url).get(`/v1/captures/${captureId}`).set('authorization', await bearer(server, 'alice')).expect(200);
        return got.body.view.fields[0].digitCount === 16 ? got : undefined;
      });
      expect(res.body).toMatchObject({ id: captureId, view: { callSid: CALL } });
    }
    await request(c.url).get(`/v1/captures/${captureId}`).set('authorization', await bearer(c, 'bob')).expect(403);
    const missing = await request(b.url).get('/v1/captures/cap_nope').set('authorization', await bearer(b, 'alice')).expect(404);
    expect(missing.body.error.code).toBe('capture_not_found');
  });

  it('resets a field through C and cancels through B, with the owning node answering with its view', async () => {
    const reset = await request(c.url).post(`/v1/captures/${captureId}/fields/card_number/reset`).set('authorization', await bearer(c, 'alice')).expect(200);
    expect(reset.body.view.fields[0].digitCount).toBe(0);
    const unknownField = await request(c.url).post(`/v1/captures/${captureId}/fields/cvv/reset`).set('authorization', await bearer(c, 'alice'));
    expect(unknownField.status).toBeGreaterThanOrEqual(400);
    expect(unknownField.status).toBeLessThan(500);
    const cancelled = await request(b.url).post(`/v1/captures/${captureId}/cancel`).set('authorization', await bearer(b, 'sue', 'supervisor')).expect(200);
    expect(cancelled.body.view.state).toBe('cancelled');
    expect(a.context.captures.get(captureId)!.isActive()).toBe(false);
  });

  it('gives an events socket on any node a snapshot with the other nodes calls and captures', async () => {
    const late = await EventsSocket.open(b, 'alice');
    const view = await waitFor(() => late.latest(captureId));
    expect(view.state).toBe('cancelled');
    expect(late.calls()).toContain(CALL);
    late.close();
  });

  it('shares the per-agent capture-start limit across nodes', async () => {
    const statuses: number[] = [];
    for (const server of [a, b, c, a]) {
      const res = await request(server.url).post('/v1/calls/CA_none/captures').set('authorization', await bearer(server, 'carol')).send({ fields: ['card_number'] });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([404, 404, 404, 429]);
  });

  it('while node B cannot reach Redis: not ready, forwarded commands fail at once with cluster_unavailable, its own state still works; reconnecting resyncs', async () => {
    await request(b.url).get('/readyz').expect(200);
    proxy.cut();
    await waitFor(() => !b.context.cluster.healthy());
    await request(b.url).get('/readyz').expect(503);
    const started = Date.now();
    const refused = await request(b.url).post(`/v1/calls/${CALL}/captures`).set('authorization', await bearer(b, 'alice')).send({ fields: ['card_number'] }).expect(503);
    expect(refused.body.error.code).toBe('cluster_unavailable');
    expect(Date.now() - started).toBeLessThan(5_000);

    const LOCAL = 'CA00000000000000000000000000c1b001';
    b.context.calls.upsert({ callSid: LOCAL, agentId: 'dave', state: 'bridged', startedAt: new Date().toISOString(), node: 'node-b' });
    const local = await request(b.url).post(`/v1/calls/${LOCAL}/captures`).set('authorization', await bearer(b, 'dave')).send({ fields: ['card_number'] }).expect(201);
    expect(b.context.captures.get(local.body.id)).toBeDefined();
    expect(a.context.calls.get(LOCAL)).toBeUndefined();

    proxy.restore();
    await waitFor(() => b.context.cluster.healthy(), 15_000);
    await request(b.url).get('/readyz').expect(200);
    await waitFor(() => a.context.calls.get(LOCAL) && c.context.calls.get(LOCAL), 15_000);
    const forwarded = await waitFor(async () => {
      const res = await request(c.url).post(`/v1/captures/${local.body.id}/cancel`).set('authorization', await bearer(c, 'dave'));
      return res.status === 200 ? res : undefined;
    }, 15_000);
    expect(forwarded.body.view.state).toBe('cancelled');
  });
});
