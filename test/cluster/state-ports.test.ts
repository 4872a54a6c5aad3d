// slow: real services (Redis at 127.0.0.1:6379, several in-process nodes on one prefix)
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/audit/logger.js';
import { ToneguardError } from '../../src/errors.js';
import { RedisNodeBus } from '../../src/cluster/redis-bus.js';
import { RedisNodeDirectory } from '../../src/cluster/redis-nodes.js';
import { RedisCallPlacement } from '../../src/cluster/redis-placement.js';
import { MemoryCallPlacement, MemoryNodeBus, MemoryNodeDirectory } from '../../src/cluster/memory.js';
import type { RedisConnections } from '../../src/cluster/redis.js';
import type { NodeDirectory } from '../../src/cluster/ports.js';
import { testRedisPrefix } from '../helpers/redis.js';
import { createClusterState } from '../../src/cluster/index.js';
import { parseConfig } from '../../src/config/index.js';
import { eventually, redisConnections, startRedisProxy } from './state-fixtures.js';

const logger = silentLogger();
const timings = { heartbeatMs: 100, nodeTtlMs: 400 };
let cleanup: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function node(prefix: string, id: string, url?: string): Promise<{ redis: RedisConnections; bus: RedisNodeBus; nodes: RedisNodeDirectory }> {
  const redis = await redisConnections(prefix, url, 300);
  const bus = await RedisNodeBus.open(redis, id, 1_000, logger);
  const nodes = await RedisNodeDirectory.open({ id, url: `http://${id}.test` }, redis, bus, timings, logger);
  cleanup.push(async () => {
    await nodes.close();
    await bus.close();
    await redis.close();
  });
  return { redis, bus, nodes };
}

function prefix(): string {
  const p = testRedisPrefix('ports');
  cleanup.push(() => p.clear());
  return p.prefix;
}

describe('RedisNodeBus', () => {
  it('answers a request from another node and carries a handler ToneguardError back with its code and status', async () => {
    const p = prefix();
    const a = await node(p, 'a');
    const b = await node(p, 'b');
    a.bus.handle('echo', async (payload) => ({ echoed: payload, on: 'a' }));
    a.bus.handle('refuse', async () => {
      throw new ToneguardError('capture_in_progress', 'a capture is already running on this call', 409);
    });
    a.bus.handle('crash', async () => {
      throw new Error('secret detail 4111111111111111');
    });
    await expect(b.bus.request('a', 'echo', { n: 1 })).resolves.toEqual({ echoed: { n: 1 }, on: 'a' });
    const refused = await b.bus.request('a', 'refuse', {}).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ToneguardError);
    expect(refused).toMatchObject({ code: 'capture_in_progress', status: 409, message: 'a capture is already running on this call' });
    await expect(b.bus.request('a', 'crash', {})).rejects.toMatchObject({ code: 'internal_error', status: 500, message: 'internal error' });
    await expect(b.bus.request('a', 'nope', {})).rejects.toMatchObject({ code: 'unknown_command', status: 501 });
  });

  it('fails with node_unreachable (503) at once for a node nobody serves, and after the timeout for one that does not answer', async () => {
    const p = prefix();
    const a = await node(p, 'a');
    const b = await node(p, 'b');
    await expect(b.bus.request('ghost', 'echo', {})).rejects.toMatchObject({ code: 'node_unreachable', status: 503 });
    a.bus.handle('hang', () => new Promise(() => undefined));
    await expect(b.bus.request('a', 'hang', {}, 100)).rejects.toMatchObject({ code: 'node_unreachable', status: 503 });
  });

  it('runs a request to itself in process', async () => {
    const a = await node(prefix(), 'a');
    a.bus.handle('echo', async (payload) => payload);
    await expect(a.bus.request('a', 'echo', { x: 1 })).resolves.toEqual({ x: 1 });
  });

  it('broadcasts a topic to every node once, the publisher included', async () => {
    const p = prefix();
    const nodes = [await node(p, 'a'), await node(p, 'b'), await node(p, 'c')];
    const heard = nodes.map(() => [] as unknown[]);
    nodes.forEach((n, i) => n.bus.subscribe('views', (m) => heard[i].push(m)));
    await new Promise((r) => setTimeout(r, 50));
    nodes[0].bus.publish('views', { id: 1 });
    nodes[1].bus.publish('views', { id: 2 });
    await eventually(() => heard.every((h) => h.length === 2));
    await new Promise((r) => setTimeout(r, 100));
    for (const h of heard) expect(h).toHaveLength(2);
    expect(heard[0]).toEqual([{ id: 1 }, { id: 2 }]);
  });
});

describe('losing Redis', () => {
  it('fails a request at once with cluster_unavailable, and serves and broadcasts again after reconnecting', async () => {
    const p = prefix();
    const proxy = await startRedisProxy();
    cleanup.push(() => proxy.close());
    const a = await node(p, 'a');
    const b = await node(p, 'b', proxy.url);
    a.bus.handle('echo', async (x) => x);
    b.bus.handle('echo', async (x) => x);
    const heard: unknown[] = [];
    b.bus.subscribe('t', (m) => heard.push(m));
    proxy.cut();
    await eventually(() => !b.redis.healthy());
    await expect(b.bus.request('a', 'echo', 1)).rejects.toMatchObject({ code: 'cluster_unavailable', status: 503 });
    await expect(a.bus.request('b', 'echo', 1)).rejects.toMatchObject({ code: 'node_unreachable', status: 503 });
    proxy.restore();
    await eventually(() => b.redis.healthy());
    await eventually(async () => (await a.bus.request('b', 'echo', 2).catch(() => undefined)) === 2);
    await expect(b.bus.request('a', 'echo', 3)).resolves.toBe(3);
    await eventually(() => {
      a.bus.publish('t', 'after');
      return heard.includes('after');
    }, 50);
    expect(await a.nodes.probe('b', 500)).toBe(true);
  });
});

describe('createClusterState', () => {
  it('connects, registers the node with its pinned live calls as its load, and reports Redis health', async () => {
    const p = prefix();
    const config = parseConfig({
      cluster: { redisUrl: 'redis://127.0.0.1:6379', databaseUrl: 'postgres://postgres@127.0.0.1/unused', nodeId: 'n1', nodeUrl: 'https://n1.test', redisPrefix: p, heartbeatMs: 100 },
    });
    const state = await createClusterState(config, logger);
    cleanup.push(() => state.close());
    expect(state.healthy()).toBe(true);
    state.calls.upsert({ callSid: 'CA1', state: 'bridged', startedAt: 'x', node: 'n1' });
    state.calls.upsert({ callSid: 'CA2', state: 'ended', startedAt: 'x', node: 'n1' });
    state.calls.upsert({ callSid: 'CA3', state: 'bridged', startedAt: 'x', node: 'other' });
    await eventually(async () => (await state.nodes.get('n1'))?.calls === 1);
    expect(await state.nodes.pick()).toMatchObject({ id: 'n1', url: 'https://n1.test' });
    expect(await state.placement.move('CA1', undefined, 'n1')).toBe('n1');
  });
});

describe('RedisNodeDirectory', () => {
  it('lists live nodes, picks the accepting one with the fewest calls, probes over the bus and deregisters on close', async () => {
    const p = prefix();
    const a = await node(p, 'a');
    const b = await node(p, 'b');
    const c = await node(p, 'c');
    expect((await a.nodes.live()).map((n) => n.id).sort()).toEqual(['a', 'b', 'c']);
    a.nodes.reportCalls(5);
    b.nodes.reportCalls(2);
    c.nodes.reportCalls(1);
    c.nodes.setAccepting(false);
    await eventually(async () => (await a.nodes.get('a'))?.calls === 5 && (await a.nodes.get('b'))?.calls === 2);
    expect(await a.nodes.pick()).toMatchObject({ id: 'b', url: 'http://b.test', calls: 2, accepting: true });
    expect(await a.nodes.probe('c', 500)).toBe(true);
    expect(await a.nodes.probe('ghost', 200)).toBe(false);
    await c.nodes.close();
    await c.bus.close();
    expect(await a.nodes.get('c')).toBeUndefined();
    expect((await a.nodes.live()).map((n) => n.id).sort()).toEqual(['a', 'b']);
    expect(await a.nodes.probe('c', 200)).toBe(false);
  });

  it('forgets a node that stops its heartbeat once nodeTtlMs has passed', async () => {
    const p = prefix();
    const a = await node(p, 'a');
    const redis = await redisConnections(p);
    cleanup.push(() => redis.close());
    await redis.command.set(`${p}node:silent`, JSON.stringify({ id: 'silent', url: 'http://s', calls: 0, accepting: true, seenAt: 0 }), 'PX', 150);
    await redis.command.sadd(`${p}nodes`, 'silent');
    expect((await a.nodes.live()).map((n) => n.id)).toContain('silent');
    await eventually(async () => !(await a.nodes.live()).some((n) => n.id === 'silent'));
    expect(await redis.command.sismember(`${p}nodes`, 'silent')).toBe(0);
  });
});

describe('RedisCallPlacement', () => {
  it('moves a call atomically: of concurrent movers, exactly one wins', async () => {
    const p = prefix();
    const conns = await Promise.all([1, 2, 3, 4].map(() => redisConnections(p)));
    cleanup.push(async () => void (await Promise.all(conns.map((c) => c.close()))));
    const placements = conns.map((c) => new RedisCallPlacement(c));
    expect(await placements[0].nodeOf('CA1')).toBeUndefined();
    expect(await placements[0].move('CA1', undefined, 'a')).toBe('a');
    const results = await Promise.all(placements.map((pl, i) => pl.move('CA1', 'a', `n${i}`)));
    const winners = results.filter((r, i) => r === `n${i}`);
    expect(winners).toHaveLength(1);
    expect(new Set(results)).toEqual(new Set(winners));
    expect(await placements[0].nodeOf('CA1')).toBe(winners[0]);
    expect(await placements[1].move('CA1', 'a', 'late')).toBe(winners[0]);
  });
});

describe('single-node ports', () => {
  it('are one node alone: itself live and picked, other nodes unreachable', async () => {
    const bus = new MemoryNodeBus('solo');
    bus.handle('echo', async (x) => x);
    await expect(bus.request('solo', 'echo', 1)).resolves.toBe(1);
    await expect(bus.request('other', 'echo', 1)).rejects.toMatchObject({ code: 'node_unreachable' });
    const heard: unknown[] = [];
    bus.subscribe('t', (m) => heard.push(m));
    bus.publish('t', { a: 1 });
    expect(heard).toEqual([{ a: 1 }]);
    const nodes: NodeDirectory = new MemoryNodeDirectory({ id: 'solo', url: 'http://solo' });
    nodes.reportCalls(3);
    expect(await nodes.pick()).toMatchObject({ id: 'solo', calls: 3 });
    nodes.setAccepting(false);
    expect(await nodes.pick()).toBeUndefined();
    expect(await nodes.probe('solo', 10)).toBe(true);
    const placement = new MemoryCallPlacement();
    expect(await placement.move('c', undefined, 'solo')).toBe('solo');
    expect(await placement.move('c', 'x', 'y')).toBe('solo');
  });
});
