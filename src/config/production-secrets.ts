import { readFileSync } from 'node:fs';
import { isToneguardError } from '../errors.js';
import { parseKek } from '../vault/keyring-source.js';
import type { Config } from './schema.js';
import { isPlaceholder, lowEntropyReason, weakFormattedSecretReason, weakKeyReason } from './secret-strength.js';

/** Twilio's documented forms: an Account SID is `AC` and 32 hex digits, an auth token 32 hex digits. */
const ACCOUNT_SID = /^AC([0-9a-f]{32})$/;
const AUTH_TOKEN = /^([0-9a-f]{32})$/;

/** The Generic Pay Connector's password is chosen by people, so it gets a length floor rather than a format. */
const MIN_CONNECTOR_PASSWORD_LENGTH = 16;

/** Lines of a KEK file that hold a key (blank lines and `#` comments skipped). */
function kekFileLines(file: string): Array<{ text: string; where: string }> {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line, i) => ({ text: line.trim(), where: `line ${i + 1} of vault.kekFile (TONEGUARD_KEK_FILE)` }))
    .filter(({ text }) => text !== '' && !text.startsWith('#'));
}

/** Why one `version:base64` KEK is not real key material, in words that name `where`, never the key. */
function kekProblem(text: string, where: string): string | null {
  try {
    const reason = lowEntropyReason(parseKek(text, where).key);
    return reason ? `${where} ${reason}` : null;
  } catch (err) {
    if (!isToneguardError(err)) throw err;
    return isPlaceholder(text) ? `${where} is a placeholder, not a key` : err.message;
  }
}

function kekProblems(config: Config): string[] {
  const entries = config.vault.keks.map((text, i) => ({ text, where: `vault.keks entry ${i + 1} (TONEGUARD_KEKS)` }));
  if (entries.length === 0 && config.vault.kekFile) {
    // A missing or unreadable file is reported by the secret-file checks.
    try {
      entries.push(...kekFileLines(config.vault.kekFile));
    } catch {
      return [];
    }
  }
  return entries.map(({ text, where }) => kekProblem(text, where)).filter((p): p is string => p !== null);
}

/**
 * Why the configured secrets are not real ones: placeholders, the wrong form, too short, or an
 * obvious pattern. Missing secrets are reported by the caller; each line names the setting and
 * its variable and never holds the value.
 */
export function secretStrengthProblems(config: Config): string[] {
  const problems: string[] = [];
  const check = (setting: string, value: string | null | undefined, reason: (value: string) => string | null) => {
    if (!value) return;
    const why = reason(value);
    if (why) problems.push(`${setting} ${why}`);
  };
  check('twilio.accountSid (TWILIO_ACCOUNT_SID)', config.twilio.accountSid, (v) => weakFormattedSecretReason(v, ACCOUNT_SID, '"AC" followed by 32 lowercase hex digits'));
  check('twilio.authToken (TWILIO_AUTH_TOKEN)', config.twilio.authToken, (v) => weakFormattedSecretReason(v, AUTH_TOKEN, '32 lowercase hex digits'));
  problems.push(...kekProblems(config));
  check('vault.fingerprintKey (TONEGUARD_FINGERPRINT_KEY)', config.vault.fingerprintKey, (v) => weakKeyReason(v));
  check('audit.hmacKey (TONEGUARD_AUDIT_HMAC_KEY)', config.audit.hmacKey, (v) => weakKeyReason(v, ['hex', 'base64']));
  check('connector.username (TONEGUARD_CONNECTOR_USERNAME)', config.connector.username, (v) => (isPlaceholder(v) ? 'is a placeholder' : null));
  check('connector.password (TONEGUARD_CONNECTOR_PASSWORD)', config.connector.password, (v) => {
    if (isPlaceholder(v)) return 'is a placeholder';
    if (v.length < MIN_CONNECTOR_PASSWORD_LENGTH) return `is shorter than ${MIN_CONNECTOR_PASSWORD_LENGTH} characters`;
    return lowEntropyReason(Buffer.from(v, 'utf8'));
  });
  return problems;
}
