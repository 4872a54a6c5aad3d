import { ToneguardError } from '../errors.js';
import type { Config } from './schema.js';

/** One production requirement: its name, and what is wrong (one line each) when the configuration misses it. */
export interface ProductionCheck {
  name: string;
  problems(config: Config): string[];
}

const missing = (what: string) => `${what} is missing`;
const unless = (ok: boolean, problem: string): string[] => (ok ? [] : [problem]);

/** Every check a production start makes, in the order their problems are reported (`toneguard evidence` shows each). */
export const PRODUCTION_CHECKS: readonly ProductionCheck[] = [
  { name: 'Twilio account SID', problems: (c) => unless(Boolean(c.twilio.accountSid), missing('twilio.accountSid (TWILIO_ACCOUNT_SID)')) },
  { name: 'Twilio auth token', problems: (c) => unless(Boolean(c.twilio.authToken), missing('twilio.authToken (TWILIO_AUTH_TOKEN)')) },
  {
    name: 'vault key-encryption keys',
    problems: (c) => unless(c.vault.keks.length > 0 || Boolean(c.vault.kekFile), missing('vault.keks or vault.kekFile (TONEGUARD_KEKS / TONEGUARD_KEK_FILE)')),
  },
  { name: 'vault fingerprint key', problems: (c) => unless(Boolean(c.vault.fingerprintKey), missing('vault.fingerprintKey (TONEGUARD_FINGERPRINT_KEY)')) },
  {
    name: 'audit trail key',
    problems: (c) =>
      !c.audit.hmacKey
        ? [missing('audit.hmacKey (TONEGUARD_AUDIT_HMAC_KEY)')]
        : unless(c.audit.hmacKey.length >= 32, 'audit.hmacKey (TONEGUARD_AUDIT_HMAC_KEY) is shorter than 32 characters'),
  },
  {
    name: 'Generic Pay Connector credentials',
    problems: (c) =>
      unless(
        !c.processors.some((p) => p.type === 'twilio-generic-pay') || Boolean(c.connector.username && c.connector.password),
        missing('connector.username and connector.password (TONEGUARD_CONNECTOR_USERNAME / TONEGUARD_CONNECTOR_PASSWORD), needed by the twilio-generic-pay processor,'),
      ),
  },
  { name: 'Twilio signature validation', problems: (c) => unless(c.twilio.validateSignatures, 'twilio.validateSignatures (TONEGUARD_VALIDATE_SIGNATURES) is off') },
  {
    name: 'development token issuer off',
    problems: (c) => unless(!c.auth.devIssuer, 'auth.devIssuer (TONEGUARD_DEV_ISSUER) is on: the development token issuer is not allowed'),
  },
  { name: 'agent token issuer', problems: (c) => unless(c.auth.issuer !== 'toneguard-dev', 'auth.issuer (TONEGUARD_JWT_ISSUER) is the development issuer') },
  { name: 'agent token keys (JWKS)', problems: (c) => unless(Boolean(c.auth.jwksUrl), missing('auth.jwksUrl (TONEGUARD_JWKS_URL)')) },
  { name: 'no self-signed certificate', problems: (c) => unless(!c.http.tls.selfSigned, 'http.tls.selfSigned (TONEGUARD_TLS_SELF_SIGNED) is for development only') },
  {
    name: 'TLS',
    problems: (c) =>
      unless(
        Boolean(c.http.tls.certFile && c.http.tls.keyFile) || c.http.tls.behindProxy,
        'TLS is off: set http.tls.certFile and keyFile (TONEGUARD_TLS_CERT_FILE / TONEGUARD_TLS_KEY_FILE), or http.tls.behindProxy (TONEGUARD_BEHIND_TLS_PROXY)',
      ),
  },
  { name: 'https public URL', problems: (c) => unless(c.publicUrl.startsWith('https://'), 'publicUrl (TONEGUARD_PUBLIC_URL) is not https') },
];

/**
 * What stops a production start, one line each, naming the setting and its variable.
 * Empty means the configuration may run in production.
 */
export function productionProblems(config: Config): string[] {
  return PRODUCTION_CHECKS.flatMap((check) => check.problems(config));
}

/** Development settings that would be unsafe with real card data: logged loudly at start (the vault warns about its own keys). */
export function developmentWarnings(config: Config): string[] {
  const warnings: string[] = [];
  if (!config.twilio.validateSignatures) warnings.push('Twilio signature validation is OFF: anyone can post webhooks and open media streams');
  if (config.auth.devIssuer) warnings.push('the development token issuer is ON: anyone with shell access can mint agent tokens');
  if (!config.audit.hmacKey) warnings.push('the audit trail is sealed with a generated development key');
  return warnings;
}

/** Refuses a production configuration with problems, naming each; returns development warnings otherwise. */
export function checkStartupConfig(config: Config): string[] {
  if (config.profile !== 'production') return developmentWarnings(config);
  const problems = productionProblems(config);
  if (problems.length > 0) {
    throw new ToneguardError('config_refused', `production configuration refused: ${problems.join('; ')}`, 500);
  }
  return [];
}
