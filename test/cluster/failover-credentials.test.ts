// slow: real services (Redis)
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisRedeemedCredentials } from '../../src/cluster/failover-credentials.js';
import { deriveStreamCredentialKey, StreamCredentials } from '../../src/media/stream-credentials.js';
import { REDIS_URL, testRedisPrefix } from '../helpers/redis.js';

const redis = new Redis(REDIS_URL);
const prefix = testRedisPrefix('credentials');
afterAll(async () => {
  await prefix.clear();
  redis.disconnect();
});

const CALLER = { leg: 'caller' as const, legCallId: 'CA' + 'c'.repeat(32) };
const auditKey = randomBytes(32).toString('base64');
/** One node's issuer as cluster mode builds it. */
const node = () => new StreamCredentials(30_000, deriveStreamCredentialKey(auditKey), Date.now, new RedisRedeemedCredentials(redis, prefix.prefix));

describe('stream credentials across nodes', () => {
  it('derives one key from the audit key (HKDF), never the audit key itself', () => {
    expect(deriveStreamCredentialKey(auditKey).equals(deriveStreamCredentialKey(auditKey))).toBe(true);
    expect(deriveStreamCredentialKey(auditKey).equals(Buffer.from(auditKey, 'utf8'))).toBe(false);
    expect(deriveStreamCredentialKey(auditKey).equals(deriveStreamCredentialKey(randomBytes(32).toString('base64')))).toBe(false);
  });

  it('admits a credential one node issued on another node, once in the whole cluster', async () => {
    const token = node().issue(CALLER);
    const [first, second] = [node(), node()];
    expect(await first.redeem(CALLER, token)).toEqual({ ok: true });
    expect(await second.redeem(CALLER, token)).toEqual({ ok: false, reason: 'credential_reused' });
    expect(await first.redeem(CALLER, token)).toEqual({ ok: false, reason: 'credential_reused' });
    const keys = await redis.keys(`${prefix.prefix}*`);
    expect(keys.length).toBe(1);
    expect(await redis.pttl(keys[0])).toBeGreaterThan(0);
  });

  it('refuses a credential from a cluster with another audit key', async () => {
    const foreign = new StreamCredentials(30_000, deriveStreamCredentialKey('another key'), Date.now).issue(CALLER);
    expect(await node().redeem(CALLER, foreign)).toEqual({ ok: false, reason: 'credential_invalid' });
  });
});
