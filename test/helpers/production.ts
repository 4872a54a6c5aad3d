import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Fresh random secrets of the forms production demands; never a fixed value a check could learn. */
export function strongSecrets() {
  return {
    twilio: { accountSid: `AC${randomBytes(16).toString('hex')}`, authToken: randomBytes(16).toString('hex') },
    vault: { keks: [`1:${randomBytes(32).toString('base64')}`], fingerprintKey: randomBytes(32).toString('base64') },
    audit: { hmacKey: randomBytes(32).toString('base64') },
    connector: { username: 'twilio-pay', password: randomBytes(18).toString('base64url') },
  };
}

/** A production configuration with nothing to refuse (behind a TLS proxy, so no certificate files; a data directory yet to be created). */
export function completeProductionConfig(): Record<string, unknown> {
  const secrets = strongSecrets();
  return {
    profile: 'production',
    dataDir: join(mkdtempSync(join(tmpdir(), 'toneguard-prod-')), 'data'),
    publicUrl: 'https://pay.example.com',
    twilio: secrets.twilio,
    vault: secrets.vault,
    audit: secrets.audit,
    auth: { jwksUrl: 'https://idp.example.com/jwks', issuer: 'https://idp.example.com', devIssuer: false, mfaRoles: ['supervisor', 'admin', 'auditor'] },
    http: { tls: { behindProxy: true } },
  };
}
