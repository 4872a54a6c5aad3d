// slow: real services (Redis at 127.0.0.1:6379, several in-process registries on one prefix, a cuttable TCP proxy)
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/audit/logger.js';
import type { RedisConnections } from '../../src/cluster/redis.js';
import type { CallRecord } from '../../src/state/calls.js';
import { RedisCallRegistry } from '../../src/state/redis-calls.js';
import { testRedisPrefix } from '../helpers/redis.js';
import { eventually, redisConnections, startRedisProxy } from './state-fixtures.js';

const logger = silentLogger();
let cleanup: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

function prefix(): string {
  const p = testRedisPrefix('calls');
  cleanup.push(() => p.clear());
  return p.prefix;
}

async function registry(p: string, selfId: string, url?: string, retainEndedMs?: number): Promise<{ calls: RedisCallRegistry; redis: RedisConnections; heard: CallRecord[] }> {
  const redis = await redisConnections(p, url, 300);
  const calls = await RedisCallRegistry.open({ redis, selfId, logger, ...(retainEndedMs ? { retainEndedMs } : {}) });
  const heard: CallRecord[] = [];
  calls.onChange((r) => heard.push(r));
  cleanup.push(async () => {
    calls.close();
    await redis.close();
  });
  return { calls, redis, heard };
}

const call = (callSid: string, extra: Partial<CallRecord> = {}): CallRecord => ({ callSid, state: 'ringing', startedAt: '2026-12-02T00:00:00.000Z', ...extra });

describe('RedisCallRegistry', () => {
  it('shares writes between nodes: local at once, remote by pub/sub, and a node started later loads them', async () => {
    const p = prefix();
    const a = await registry(p, 'a');
    const b = await registry(p, 'b');
    a.calls.upsert(call('CA1', { agentId: 'agent-1', node: 'a', providerCallId: 'P1' }));
    expect(a.calls.get('CA1')).toMatchObject({ node: 'a' });
    expect(a.heard).toHaveLength(1);
    await eventually(() => b.calls.get('CA1') !== undefined);
    expect(b.heard.map((r) => r.callSid)).toEqual(['CA1']);
    expect(b.calls.findByAnyLeg('P1')?.callSid).toBe('CA1');
    expect(b.calls.forAgent('agent-1')).toHaveLength(1);

    b.calls.update('CA1', { state: 'bridged' });
    await eventually(() => a.calls.get('CA1')?.state === 'bridged');
    expect(a.heard.map((r) => r.state)).toEqual(['ringing', 'bridged']);

    const c = await registry(p, 'c');
    expect(c.calls.get('CA1')).toEqual(a.calls.get('CA1'));
    expect(c.calls.list()).toHaveLength(1);
  });

  it('keeps fields that two nodes patched at the same time, and removes a field patched to undefined', async () => {
    const p = prefix();
    const a = await registry(p, 'a');
    const b = await registry(p, 'b');
    a.calls.upsert(call('CA2', { unbound: true }));
    await eventually(() => b.calls.get('CA2') !== undefined);
    a.calls.update('CA2', { state: 'bridged' });
    b.calls.update('CA2', { agentId: 'agent-9', unbound: undefined });
    const merged = { ...call('CA2'), state: 'bridged', agentId: 'agent-9' };
    await eventually(() => JSON.stringify(a.calls.get('CA2')) === JSON.stringify(b.calls.get('CA2')) && a.calls.get('CA2')?.agentId === 'agent-9' && b.calls.get('CA2')?.state === 'bridged');
    expect(a.calls.get('CA2')).toEqual(merged);
    expect(b.calls.get('CA2')).toEqual(merged);
    expect(a.calls.get('CA2')).not.toHaveProperty('unbound');
  });

  it('lets an ended call expire from Redis after retainEndedMs', async () => {
    const p = prefix();
    const a = await registry(p, 'a', undefined, 60_000);
    a.calls.upsert(call('CA3', { state: 'bridged' }));
    a.calls.update('CA3', { state: 'ended', endedAt: '2026-12-02T00:01:00.000Z' });
    const key = `${p}call:CA3`;
    await eventually(async () => (await a.redis.command.hget(key, 'state')) === '"ended"');
    const ttl = await a.redis.command.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('while Redis is unreachable keeps working locally, and after reconnecting pushes its writes and reloads the others', async () => {
    const p = prefix();
    const proxy = await startRedisProxy();
    cleanup.push(() => proxy.close());
    const a = await registry(p, 'a', proxy.url);
    const b = await registry(p, 'b');
    a.calls.upsert(call('CA4', { node: 'a' }));
    await eventually(() => b.calls.get('CA4') !== undefined);

    proxy.cut();
    await eventually(() => !a.redis.healthy());
    const started = Date.now();
    await expect(a.redis.command.get(`${p}x`)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1_000);
    a.calls.update('CA4', { state: 'bridged' });
    a.calls.upsert(call('CA5', { node: 'a', state: 'bridged' }));
    b.calls.upsert(call('CB1', { node: 'b' }));
    expect(a.calls.get('CA4')?.state).toBe('bridged');
    expect(a.calls.get('CA5')).toBeDefined();
    expect(a.calls.get('CB1')).toBeUndefined();

    proxy.restore();
    await eventually(() => a.redis.healthy() && a.calls.get('CB1') !== undefined);
    await a.calls.settled();
    await eventually(() => b.calls.get('CA4')?.state === 'bridged' && b.calls.get('CA5') !== undefined);
    expect(b.heard.some((r) => r.callSid === 'CA5')).toBe(true);
    expect(a.heard.some((r) => r.callSid === 'CB1')).toBe(true);
  });

  it('republishes the live calls pinned to it that Redis lost', async () => {
    const p = prefix();
    const a = await registry(p, 'a');
    a.calls.upsert(call('CA6', { node: 'a', state: 'bridged' }));
    a.calls.upsert(call('CX1', { node: 'x', state: 'bridged' }));
    await eventually(async () => (await a.redis.command.exists(`${p}call:CA6`, `${p}call:CX1`)) === 2);
    // What a Redis restart does to this prefix, without restarting the shared Redis.
    await a.redis.command.del(`${p}call:CA6`, `${p}call:CX1`, `${p}calls`);
    a.redis.command.disconnect(true);
    await eventually(() => !a.redis.healthy());
    await eventually(() => a.redis.healthy());
    await eventually(async () => (await a.redis.command.exists(`${p}call:CA6`)) === 1);
    await a.calls.settled();
    expect(a.calls.get('CA6')).toBeDefined();
    expect(a.calls.get('CX1')).toBeUndefined();
    const c = await registry(p, 'c');
    expect(c.calls.list().map((r) => r.callSid)).toEqual(['CA6']);
  });
});
