import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { configFingerprint } from '../../src/config/fingerprint.js';

const configDir = resolve(import.meta.dirname, '../../config');

describe('configuration loader', () => {
  it('maps every documented environment variable onto its setting', () => {
    const config = loadConfig({
      configDir,
      env: {
        TONEGUARD_PROFILE: 'development',
        TONEGUARD_HOST: '127.0.0.1',
        TONEGUARD_PORT: '9443',
        TONEGUARD_PUBLIC_URL: 'https://pay.example.com',
        TONEGUARD_DATA_DIR: '/var/lib/toneguard',
        TONEGUARD_LOG_LEVEL: 'warn',
        TWILIO_ACCOUNT_SID: 'AC123',
        TWILIO_AUTH_TOKEN: 'tok',
        TWILIO_API_BASE_URL: 'http://127.0.0.1:9999',
        TONEGUARD_AGENT_TARGET: 'sip:agent@example.com',
        TONEGUARD_VALIDATE_SIGNATURES: 'off',
        TONEGUARD_LOOKAHEAD_MS: '15',
        TONEGUARD_KEKS: '1:aaa, 2:bbb',
        TONEGUARD_AUDIT_HMAC_KEY: 'audit-key',
        TONEGUARD_ALERT_WEBHOOK_URL: 'https://alerts.example.com/hook',
        TONEGUARD_TLS_CERT_FILE: '/etc/tls/cert.pem',
        TONEGUARD_TLS_KEY_FILE: '/etc/tls/key.pem',
        TONEGUARD_BEHIND_TLS_PROXY: 'yes',
        TONEGUARD_CORS_ORIGINS: 'https://desk.example.com,https://desk2.example.com',
        TONEGUARD_JWKS_URL: 'https://idp.example.com/jwks',
        TONEGUARD_DEV_ISSUER: 'false',
      },
    });
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 9443,
      publicUrl: 'https://pay.example.com',
      dataDir: '/var/lib/toneguard',
      log: { level: 'warn' },
      twilio: { accountSid: 'AC123', authToken: 'tok', apiBaseUrl: 'http://127.0.0.1:9999', agentTarget: 'sip:agent@example.com', validateSignatures: false },
      dsp: { lookaheadMs: 15 },
      vault: { keks: ['1:aaa', '2:bbb'] },
      audit: { hmacKey: 'audit-key', alertWebhookUrl: 'https://alerts.example.com/hook' },
      http: { corsOrigins: ['https://desk.example.com', 'https://desk2.example.com'], tls: { certFile: '/etc/tls/cert.pem', keyFile: '/etc/tls/key.pem', behindProxy: true } },
      auth: { jwksUrl: 'https://idp.example.com/jwks', devIssuer: false },
    });
  });

  it('layers default.json, the profile file, TONEGUARD_CONFIG, the environment and overrides, in that order', () => {
    const dir = mkdtempSync(join(tmpdir(), 'toneguard-config-'));
    writeFileSync(join(dir, 'default.json'), JSON.stringify({ port: 1000, http: { bodyLimitBytes: 1 } }));
    writeFileSync(join(dir, 'production.json'), JSON.stringify({ port: 2000, http: { requestsPerMinutePerIp: 5 } }));
    writeFileSync(join(dir, 'extra.json'), JSON.stringify({ port: 3000, host: '10.0.0.1' }));
    const config = loadConfig({ configDir: dir, env: { TONEGUARD_PROFILE: 'production', TONEGUARD_CONFIG: join(dir, 'extra.json'), TONEGUARD_PORT: '4000' }, overrides: { http: { corsOrigins: ['https://a.example'] } } });
    expect(config).toMatchObject({ profile: 'production', port: 4000, host: '10.0.0.1', http: { bodyLimitBytes: 1, requestsPerMinutePerIp: 5, corsOrigins: ['https://a.example'] } });
  });

  it('refuses malformed values, naming the variable and not echoing it', () => {
    expect(() => loadConfig({ configDir, env: { TONEGUARD_PORT: 'eighty' } })).toThrow(/TONEGUARD_PORT must be a whole number/);
    expect(() => loadConfig({ configDir, env: { TONEGUARD_VALIDATE_SIGNATURES: 'maybe' } })).toThrow(/TONEGUARD_VALIDATE_SIGNATURES must be true or false/);
    expect(() => loadConfig({ configDir, env: { TONEGUARD_CONFIG: '/nonexistent.json' } })).toThrow(/does not exist/);
  });

  it('refuses symmetric JWT algorithms and unknown MFA roles', () => {
    expect(() => loadConfig({ configDir, env: {}, overrides: { auth: { algorithms: ['HS256'] } } })).toThrow(/auth\.algorithms/);
    expect(() => loadConfig({ configDir, env: {}, overrides: { auth: { algorithms: [] } } })).toThrow(/auth\.algorithms/);
    expect(() => loadConfig({ configDir, env: {}, overrides: { auth: { mfaRoles: ['superviser'] } } })).toThrow(/auth\.mfaRoles/);
    expect(loadConfig({ configDir, env: {}, overrides: { auth: { mfaRoles: ['supervisor', 'admin'] } } }).auth.mfaRoles).toEqual(['supervisor', 'admin']);
  });

  it('default.json mirrors the schema defaults', () => {
    expect(loadConfig({ configDir, env: {} })).toEqual(loadConfig({ configDir: mkdtempSync(join(tmpdir(), 'toneguard-empty-')), env: {} }));
  });

  it('fingerprints configuration without secrets: a changed secret shows only as set/unset', () => {
    const a = loadConfig({ configDir, env: { TONEGUARD_AUDIT_HMAC_KEY: 'one-secret' } });
    const b = loadConfig({ configDir, env: { TONEGUARD_AUDIT_HMAC_KEY: 'another-secret' } });
    const c = loadConfig({ configDir, env: {} });
    expect(configFingerprint(a)).toBe(configFingerprint(b));
    expect(configFingerprint(a)).not.toBe(configFingerprint(c));
  });
});
