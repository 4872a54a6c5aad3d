import { describe, expect, it } from 'vitest';
import { createClusterHealth } from '../../src/cluster/health.js';

const never = () => new Promise<boolean>(() => undefined);

describe('cluster readiness checks', () => {
  it('names each dependency that says no, throws, or does not answer in time; an empty list when all answer', async () => {
    const health = (redis: () => boolean | Promise<boolean>, postgres: () => boolean | Promise<boolean>) => createClusterHealth({ probes: { redis, postgres }, timeoutMs: 20, cacheMs: 0 });
    expect(await health(() => true, async () => true).check()).toEqual({ unreachable: [] });
    expect(await health(() => false, async () => true).check()).toEqual({ unreachable: ['redis'] });
    expect(await health(() => true, () => Promise.reject(new Error('ECONNREFUSED'))).check()).toEqual({ unreachable: ['postgres'] });
    expect(await health(never, never).check()).toEqual({ unreachable: ['redis', 'postgres'] });
  });

  it('reuses one answer for cacheMs, so a probe flood costs one ping', async () => {
    let clock = 0;
    let pings = 0;
    const health = createClusterHealth({ probes: { redis: () => (pings++, true) }, timeoutMs: 20, cacheMs: 250, now: () => clock });
    await Promise.all([health.check(), health.check(), health.check()]);
    clock = 249;
    await health.check();
    expect(pings).toBe(1);
    clock = 250;
    await health.check();
    expect(pings).toBe(2);
  });
});
