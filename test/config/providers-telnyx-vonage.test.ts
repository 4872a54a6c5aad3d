import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/index.js';
import { productionProblems } from '../../src/config/validate.js';
import { telnyxEnabled } from '../../src/telephony/telnyx/settings.js';
import { vonageEnabled } from '../../src/telephony/vonage/settings.js';
import { enabledProviders } from '../../src/telephony/providers.js';

describe('Telnyx and Vonage settings', () => {
  it('are off by default, with the providers’ real API hosts', () => {
    const config = parseConfig({});
    expect(telnyxEnabled(config.telnyx) || vonageEnabled(config.vonage)).toBe(false);
    expect(config.telnyx).toMatchObject({ apiBaseUrl: 'https://api.telnyx.com', codec: 'PCMU', timestampToleranceSeconds: 300 });
    expect(config.vonage).toMatchObject({ apiBaseUrl: 'https://api.nexmo.com', sampleRate: 8000 });
    expect(enabledProviders(config).map((p) => p.name)).not.toEqual(expect.arrayContaining(['telnyx', 'vonage']));
  });

  it('come from their environment variables, and turn the providers on', () => {
    const config = loadConfig({
      env: {
        TELNYX_API_KEY: 'KEY1',
        TELNYX_PUBLIC_KEY: Buffer.alloc(32, 1).toString('base64'),
        TELNYX_CONNECTION_ID: '123',
        TELNYX_API_BASE_URL: 'http://127.0.0.1:9001',
        TELNYX_AGENT_TARGET: 'sip:agent@pbx.example.com',
        VONAGE_APPLICATION_ID: 'app-1',
        VONAGE_PRIVATE_KEY_FILE: '/etc/toneguard/vonage.key',
        VONAGE_SIGNATURE_SECRET: 'secret',
        VONAGE_API_KEY: 'abcd1234',
        VONAGE_API_BASE_URL: 'http://127.0.0.1:9002',
        VONAGE_AGENT_TARGET: 'app:agent',
      },
    });
    expect(config.telnyx).toMatchObject({ apiKey: 'KEY1', connectionId: '123', apiBaseUrl: 'http://127.0.0.1:9001', agentTarget: 'sip:agent@pbx.example.com' });
    expect(config.vonage).toMatchObject({ applicationId: 'app-1', privateKeyFile: '/etc/toneguard/vonage.key', signatureSecret: 'secret', apiKey: 'abcd1234', agentTarget: 'app:agent' });
    expect(telnyxEnabled(config.telnyx) && vonageEnabled(config.vonage)).toBe(true);
    expect(enabledProviders(config).map((p) => p.name)).toEqual(expect.arrayContaining(['telnyx', 'vonage']));
  });

  it('production refuses plain-http provider API URLs, naming the variable', () => {
    const problems = productionProblems(parseConfig({ profile: 'production', telnyx: { apiBaseUrl: 'http://api.example.com' }, vonage: { apiBaseUrl: 'http://api.example.com' } }));
    expect(problems.some((p) => p.includes('TELNYX_API_BASE_URL'))).toBe(true);
    expect(problems.some((p) => p.includes('VONAGE_API_BASE_URL'))).toBe(true);
  });

  it('refuses values outside their ranges', () => {
    expect(() => parseConfig({ telnyx: { timestampToleranceSeconds: 301 } })).toThrow();
    expect(() => parseConfig({ telnyx: { codec: 'OPUS' } })).toThrow();
    expect(() => parseConfig({ vonage: { sampleRate: 24000 } })).toThrow();
  });
});
