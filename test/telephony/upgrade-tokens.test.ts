import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/index.js';
import { upgradeTokenKey, UpgradeTokens } from '../../src/telephony/upgrade-tokens.js';

type KeyConfig = Pick<Config, 'cluster' | 'audit'>;
const node = (cluster: boolean): KeyConfig =>
  ({
    cluster: { redisUrl: cluster ? 'redis://127.0.0.1:6379' : null, databaseUrl: cluster ? 'postgres://127.0.0.1/toneguard' : null },
    audit: { hmacKey: 'c2hhcmVkIGF1ZGl0IGtleSBvZiB0aGUgY2x1c3Rlcg==' },
  }) as unknown as KeyConfig;

describe('upgrade token keys', () => {
  it('are the same on every node of a cluster, so a token one node wrote is valid on another', () => {
    const issuer = new UpgradeTokens(60_000, upgradeTokenKey(node(true), 'signalwire'));
    const verifier = new UpgradeTokens(60_000, upgradeTokenKey(node(true), 'signalwire'));
    expect(verifier.valid(issuer.issue())).toBe(true);
  });

  it("differ per purpose, and are random per process on a single node", () => {
    expect(upgradeTokenKey(node(true), 'signalwire').equals(upgradeTokenKey(node(true), 'telnyx'))).toBe(false);
    const issuer = new UpgradeTokens(60_000, upgradeTokenKey(node(false), 'signalwire'));
    expect(new UpgradeTokens(60_000, upgradeTokenKey(node(false), 'signalwire')).valid(issuer.issue())).toBe(false);
  });
});
