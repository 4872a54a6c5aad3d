import { describe, expect, it } from 'vitest';
import { deepMerge, loadConfig, parseConfig } from '../../src/config/index.js';
import { productionProblems } from '../../src/config/validate.js';
import { redactConfig } from '../../src/config/redacted-view.js';
import { completeProductionConfig } from '../helpers/production.js';

const production = (verification: Record<string, unknown>) => productionProblems(parseConfig(deepMerge(completeProductionConfig(), { verification })));

describe('verification settings', () => {
  it('production refuses a plain-http CRM lookup, without echoing its URL', () => {
    const problems = production({ lookupUrl: 'http://crm.example.com/lookup?key=secret' });
    expect(problems).toContain('verification.lookupUrl (TONEGUARD_VERIFICATION_LOOKUP_URL) is not https');
    expect(problems.join(' ')).not.toContain('secret');
    expect(production({ lookupUrl: 'https://crm.example.com/lookup' })).toEqual([]);
  });

  it('defaults leave verification off and require no level before a capture', () => {
    const config = parseConfig({});
    expect(config.verification.lookupUrl).toBeNull();
    expect(config.verification.smsFrom).toBeNull();
    expect(config.capture.requireVerification).toBe('none');
  });

  it('refuses an unknown required level and a sender that is not E.164', () => {
    expect(() => parseConfig({ capture: { requireVerification: 'caller_sounded_nice' } })).toThrow();
    expect(() => parseConfig({ verification: { smsFrom: 'Toneguard' } })).toThrow();
  });

  it('reads the lookup URL and sender from the environment', () => {
    const config = loadConfig({ env: { TONEGUARD_VERIFICATION_LOOKUP_URL: 'https://crm.example.com/lookup', TONEGUARD_VERIFICATION_SMS_FROM: '+15005550001' } });
    expect(config.verification).toMatchObject({ lookupUrl: 'https://crm.example.com/lookup', smsFrom: '+15005550001' });
  });
});

describe('the admin view of the verification settings', () => {
  it('removes the CRM lookup URL like the alert webhook (its path may be its secret)', () => {
    const view = redactConfig(parseConfig({ verification: { lookupUrl: 'https://crm.example.com/hooks/secretpath' } }));
    expect(JSON.stringify(view.config)).not.toContain('secretpath');
    expect(view.removed).toContain('verification.lookupUrl');
  });
});
