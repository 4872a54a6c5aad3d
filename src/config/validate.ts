import { ToneguardError } from '../errors.js';
import type { Role } from '../agent/roles.js';
import { kekProblems } from './kek-problems.js';
import type { Config } from './schema.js';
import { clusterProblems } from './cluster.js';
import { dataDirProblem } from './data-dir.js';
import { isLoopbackHost, listenHost } from './listen-host.js';
import { secretStrengthProblems } from './production-secrets.js';
import { secretFileProblems } from './secret-files.js';
import { isLoopbackAddress, parseNgListen } from '../telephony/sip/listen.js';

/** Roles that see or control the most and so must present a second factor in production (PCI DSS 8.4.2). */
const PRODUCTION_MFA_ROLES: readonly Role[] = ['supervisor', 'admin', 'auditor'];

/** Every URL the service fetches from or trusts as an origin, by the setting that holds it. */
function outboundUrls(config: Config): Array<[setting: string, url: string | null | undefined]> {
  return [
    ['auth.jwksUrl (TONEGUARD_JWKS_URL)', config.auth.jwksUrl],
    ['twilio.apiBaseUrl (TWILIO_API_BASE_URL)', config.twilio.apiBaseUrl],
    ['telnyx.apiBaseUrl (TELNYX_API_BASE_URL)', config.telnyx.apiBaseUrl],
    ['vonage.apiBaseUrl (VONAGE_API_BASE_URL)', config.vonage.apiBaseUrl],
    ['audit.alertWebhookUrl (TONEGUARD_ALERT_WEBHOOK_URL)', config.audit.alertWebhookUrl],
    ['verification.lookupUrl (TONEGUARD_VERIFICATION_LOOKUP_URL)', config.verification.lookupUrl],
    ...config.http.corsOrigins.map((origin, i): [string, string] => [`http.corsOrigins entry ${i + 1} (TONEGUARD_CORS_ORIGINS; also the widget's embedding origins)`, origin]),
    ...config.processors.flatMap((p): Array<[string, string | undefined]> => [
      [`processors "${p.name}" url`, p.url],
      [`processors "${p.name}" jwksUrl`, p.jwksUrl],
    ]),
  ];
}

/** A URL's value is never echoed: webhook URLs often carry their own secret. */
function plainHttpProblems(config: Config): string[] {
  return outboundUrls(config)
    .filter(([, url]) => url && new URL(url).protocol !== 'https:')
    .map(([setting]) => `${setting} is not https`);
}

/** The ng socket takes call control from anyone who reaches it: beyond loopback it must name the proxies it obeys. */
function ngExposure(config: Config): string | null {
  const listen = config.sip.ng.listen ? parseNgListen(config.sip.ng.listen) : undefined;
  if (!listen || isLoopbackAddress(listen.host) || config.sip.ng.allowFrom.length > 0) return null;
  return `sip.ng.listen (TONEGUARD_NG_LISTEN) listens beyond loopback on ${listen.host} without sip.ng.allowFrom (TONEGUARD_NG_ALLOW_FROM): name the proxies' addresses`;
}

function mfaProblems(config: Config): string[] {
  const missing = PRODUCTION_MFA_ROLES.filter((role) => !config.auth.mfaRoles.includes(role));
  return missing.length === 0 ? [] : [`auth.mfaRoles must list ${PRODUCTION_MFA_ROLES.join(', ')} (missing: ${missing.join(', ')})`];
}

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
  { name: 'vault key-encryption keys', problems: (c) => kekProblems(c) },
  { name: 'vault fingerprint key', problems: (c) => unless(Boolean(c.vault.fingerprintKey), missing('vault.fingerprintKey (TONEGUARD_FINGERPRINT_KEY)')) },
  { name: 'audit trail key', problems: (c) => unless(Boolean(c.audit.hmacKey), missing('audit.hmacKey (TONEGUARD_AUDIT_HMAC_KEY)')) },
  { name: 'secret strength', problems: (c) => secretStrengthProblems(c) },
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
  { name: 'https outbound URLs', problems: (c) => plainHttpProblems(c) },
  { name: 'second factor for privileged roles', problems: (c) => mfaProblems(c) },
  { name: 'secret files private', problems: (c) => secretFileProblems(c) },
  { name: 'data directory private', problems: (c) => [dataDirProblem(c.dataDir)].filter((p): p is string => p !== null) },
  { name: 'ng control socket allow-list', problems: (c) => [ngExposure(c)].filter((p): p is string => p !== null) },
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
  if (config.auth.devIssuer) {
    const host = listenHost(config);
    warnings.push(
      isLoopbackHost(host)
        ? `the development token issuer is ON: POST /v1/dev/token mints any role for anyone who reaches the port, so the listener is bound to ${host} only (TONEGUARD_HOST changes that)`
        : `the development token issuer is ON and the listener is bound to ${host}: anyone who reaches the port can mint any role through POST /v1/dev/token`,
    );
  }
  if (!config.audit.hmacKey) warnings.push('the audit trail is sealed with a generated development key');
  const exposedNg = ngExposure(config);
  if (exposedNg) warnings.push(`${exposedNg}; until then only loopback senders are obeyed`);
  const exposedDataDir = dataDirProblem(config.dataDir);
  if (exposedDataDir) warnings.push(exposedDataDir);
  return warnings;
}

/** Refuses a production configuration with problems, naming each; returns development warnings otherwise. */
export function checkStartupConfig(config: Config): string[] {
  const cluster = clusterProblems(config);
  if (cluster.length > 0) {
    throw new ToneguardError('config_refused', `cluster node refused: ${cluster.join('; ')}`, 500);
  }
  if (config.profile !== 'production') return developmentWarnings(config);
  const problems = productionProblems(config);
  if (problems.length > 0) {
    throw new ToneguardError('config_refused', `production configuration refused: ${problems.join('; ')}`, 500);
  }
  return [];
}
