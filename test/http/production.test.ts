import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { developmentWarnings, productionProblems } from '../../src/config/validate.js';
import { startServer } from '../../src/server.js';
import { silentLogger } from '../../src/audit/logger.js';

const COMPLETE = {
  profile: 'production',
  publicUrl: 'https://pay.example.com',
  twilio: { accountSid: 'AC00000000000000000000000000000000', authToken: 'token-0123456789' },
  vault: { keks: ['1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='], fingerprintKey: 'fingerprint-key-0123456789abcdef' },
  audit: { hmacKey: 'audit-hmac-key-0123456789abcdef-0123' },
  auth: { jwksUrl: 'https://idp.example.com/jwks', issuer: 'https://idp.example.com', devIssuer: false },
  http: { tls: { behindProxy: true } },
};

describe('production configuration', () => {
  it('accepts a complete production configuration', () => {
    expect(productionProblems(parseConfig(COMPLETE))).toEqual([]);
  });

  it('names every missing secret and unsafe setting', () => {
    const problems = productionProblems(
      parseConfig({
        profile: 'production',
        twilio: { validateSignatures: false },
        processors: [{ name: 'twilio', type: 'twilio-generic-pay' }],
      }),
    );
    const expected = [
      /twilio\.accountSid \(TWILIO_ACCOUNT_SID\) is missing/,
      /twilio\.authToken \(TWILIO_AUTH_TOKEN\) is missing/,
      /vault\.keks or vault\.kekFile .* is missing/,
      /vault\.fingerprintKey \(TONEGUARD_FINGERPRINT_KEY\) is missing/,
      /audit\.hmacKey \(TONEGUARD_AUDIT_HMAC_KEY\) is missing/,
      /connector\.username and connector\.password .*twilio-generic-pay/,
      /twilio\.validateSignatures .* is off/,
      /auth\.devIssuer .* is on/,
      /auth\.issuer .* development issuer/,
      /auth\.jwksUrl \(TONEGUARD_JWKS_URL\) is missing/,
      /TLS is off/,
      /publicUrl .* not https/,
    ];
    expect(problems).toHaveLength(expected.length);
    expected.forEach((pattern, i) => expect(problems[i]).toMatch(pattern));
  });

  it('refuses self-signed certificates and short audit keys', () => {
    const problems = productionProblems(parseConfig({ ...COMPLETE, audit: { hmacKey: 'short' }, http: { tls: { selfSigned: true } } }));
    expect(problems).toEqual([expect.stringMatching(/shorter than 32/), expect.stringMatching(/selfSigned/), expect.stringMatching(/TLS is off/)]);
  });

  it('startServer refuses to start, naming each problem, and writes nothing', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'toneguard-prod-')), 'data');
    const config = parseConfig({ ...COMPLETE, dataDir, port: 0, twilio: { authToken: '' }, audit: { hmacKey: null } });
    await expect(startServer(config, { logger: silentLogger() })).rejects.toThrow(
      /production configuration refused: twilio\.accountSid .*missing; twilio\.authToken .*missing; audit\.hmacKey .*missing/,
    );
    expect(existsSync(dataDir)).toBe(false);
  });

  it('development lists loud warnings for unsafe settings', () => {
    expect(developmentWarnings(parseConfig({ twilio: { validateSignatures: false } }))).toEqual([
      expect.stringMatching(/signature validation is OFF/),
      expect.stringMatching(/development token issuer is ON/),
      expect.stringMatching(/generated development key/),
    ]);
  });
});
