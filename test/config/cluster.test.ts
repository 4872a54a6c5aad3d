import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ServiceSigningKey } from '../../src/audit/service-key.js';
import { checkStartupConfig, loadConfig } from '../../src/config/index.js';
import { clusterProblems, isClusterMode } from '../../src/config/cluster.js';

const dir = mkdtempSync(join(tmpdir(), 'toneguard-cluster-config-'));
const signingKeyFile = join(dir, 'signing.jwk');
writeFileSync(signingKeyFile, JSON.stringify(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' })), { mode: 0o600 });

const clusterEnv = () => ({
  TONEGUARD_REDIS_URL: 'redis://127.0.0.1:6379',
  TONEGUARD_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/toneguard',
  TONEGUARD_NODE_ID: 'node-a',
  TONEGUARD_NODE_URL: 'http://127.0.0.1:8081',
  TONEGUARD_SIGNING_KEY_FILE: signingKeyFile,
  TONEGUARD_KEKS: `1:${randomBytes(32).toString('base64')}`,
  TONEGUARD_FINGERPRINT_KEY: randomBytes(32).toString('base64'),
  TONEGUARD_AUDIT_HMAC_KEY: randomBytes(32).toString('base64'),
});

describe('cluster configuration', () => {
  it('is cluster mode only with both Redis and PostgreSQL, and refuses one without the other', () => {
    expect(isClusterMode(loadConfig({ env: {} }))).toBe(false);
    expect(isClusterMode(loadConfig({ env: clusterEnv() }))).toBe(true);
    expect(() => loadConfig({ env: { TONEGUARD_REDIS_URL: 'redis://127.0.0.1:6379' } })).toThrow(/both redisUrl/);
  });

  it('accepts a complete cluster node', () => {
    const config = loadConfig({ env: clusterEnv() });
    expect(clusterProblems(config)).toEqual([]);
    expect(() => checkStartupConfig(config)).not.toThrow();
  });

  it('refuses a node that would generate its own keys, naming every missing setting and no value', () => {
    const env: Record<string, string> = clusterEnv();
    for (const name of ['TONEGUARD_NODE_ID', 'TONEGUARD_NODE_URL', 'TONEGUARD_SIGNING_KEY_FILE', 'TONEGUARD_KEKS', 'TONEGUARD_FINGERPRINT_KEY', 'TONEGUARD_AUDIT_HMAC_KEY']) delete env[name];
    const config = loadConfig({ env });
    let message = '';
    try {
      checkStartupConfig(config);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^cluster node refused/);
    for (const name of ['TONEGUARD_NODE_ID', 'TONEGUARD_NODE_URL', 'TONEGUARD_SIGNING_KEY_FILE', 'TONEGUARD_KEKS', 'TONEGUARD_FINGERPRINT_KEY', 'TONEGUARD_AUDIT_HMAC_KEY']) {
      expect(message).toContain(name);
    }
    expect(message).not.toContain('redis://');
    expect(message).not.toContain('postgres://');
  });

  it('loads the shared signing key from its file, and refuses a file that is not a private P-256 JWK', () => {
    const key = ServiceSigningKey.fromFile(signingKeyFile);
    expect(ServiceSigningKey.fromFile(signingKeyFile).kid).toBe(key.kid);
    const rsa = join(dir, 'rsa.jwk');
    writeFileSync(rsa, JSON.stringify(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' })));
    expect(() => ServiceSigningKey.fromFile(rsa)).toThrow(/EC P-256/);
    const publicOnly = join(dir, 'public.jwk');
    writeFileSync(publicOnly, JSON.stringify(key.publicJwk));
    expect(() => ServiceSigningKey.fromFile(publicOnly)).toThrow(/not a private JWK|EC P-256/);
  });
});
