import { ToneguardError } from '../errors.js';
import { kekProblems } from './kek-problems.js';
import type { Config } from './schema.js';

/**
 * What stops a production start, one line each, naming the setting and its variable.
 * Empty means the configuration may run in production.
 */
export function productionProblems(config: Config): string[] {
  const problems: string[] = [];
  const missing = (what: string) => problems.push(`${what} is missing`);
  if (!config.twilio.accountSid) missing('twilio.accountSid (TWILIO_ACCOUNT_SID)');
  if (!config.twilio.authToken) missing('twilio.authToken (TWILIO_AUTH_TOKEN)');
  problems.push(...kekProblems(config));
  if (!config.vault.fingerprintKey) missing('vault.fingerprintKey (TONEGUARD_FINGERPRINT_KEY)');
  if (!config.audit.hmacKey) missing('audit.hmacKey (TONEGUARD_AUDIT_HMAC_KEY)');
  else if (config.audit.hmacKey.length < 32) problems.push('audit.hmacKey (TONEGUARD_AUDIT_HMAC_KEY) is shorter than 32 characters');
  if (config.processors.some((p) => p.type === 'twilio-generic-pay') && !(config.connector.username && config.connector.password)) {
    missing('connector.username and connector.password (TONEGUARD_CONNECTOR_USERNAME / TONEGUARD_CONNECTOR_PASSWORD), needed by the twilio-generic-pay processor,');
  }
  if (!config.twilio.validateSignatures) problems.push('twilio.validateSignatures (TONEGUARD_VALIDATE_SIGNATURES) is off');
  if (config.auth.devIssuer) problems.push('auth.devIssuer (TONEGUARD_DEV_ISSUER) is on: the development token issuer is not allowed');
  if (config.auth.issuer === 'toneguard-dev') problems.push('auth.issuer (TONEGUARD_JWT_ISSUER) is the development issuer');
  if (!config.auth.jwksUrl) missing('auth.jwksUrl (TONEGUARD_JWKS_URL)');
  const tls = config.http.tls;
  if (tls.selfSigned) problems.push('http.tls.selfSigned (TONEGUARD_TLS_SELF_SIGNED) is for development only');
  if (!(tls.certFile && tls.keyFile) && !tls.behindProxy) {
    problems.push('TLS is off: set http.tls.certFile and keyFile (TONEGUARD_TLS_CERT_FILE / TONEGUARD_TLS_KEY_FILE), or http.tls.behindProxy (TONEGUARD_BEHIND_TLS_PROXY)');
  }
  if (!config.publicUrl.startsWith('https://')) problems.push('publicUrl (TONEGUARD_PUBLIC_URL) is not https');
  return problems;
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
