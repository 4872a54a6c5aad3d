import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deepMerge, parseConfig } from '../../src/config/index.js';
import { developmentWarnings, productionProblems } from '../../src/config/validate.js';
import { startServer } from '../../src/server.js';
import { silentLogger } from '../../src/audit/logger.js';
import { completeProductionConfig } from '../helpers/production.js';

type Json = Record<string, unknown>;

const production = (over: Json = {}) => parseConfig(deepMerge(completeProductionConfig(), over));
const problemsWith = (over: Json) => productionProblems(production(over));

/** A private temporary folder outside any data directory. */
const secretsDir = () => mkdtempSync(join(tmpdir(), 'toneguard-secrets-'));

function writeSecretFile(dir: string, name: string, text: string, mode: number): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  chmodSync(file, mode);
  return file;
}

const kekFileText = () => `1:${randomBytes(32).toString('base64')}\n`;

describe('production configuration', () => {
  it('accepts a complete production configuration', () => {
    expect(productionProblems(production())).toEqual([]);
  });

  it('names every missing secret and unsafe setting', () => {
    const problems = productionProblems(
      parseConfig({
        profile: 'production',
        dataDir: join(secretsDir(), 'data'),
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
      /auth\.mfaRoles must list supervisor, admin, auditor \(missing: supervisor, admin, auditor\)/,
    ];
    expect(problems).toHaveLength(expected.length);
    expected.forEach((pattern, i) => expect(problems[i]).toMatch(pattern));
  });

  it('refuses self-signed certificates', () => {
    expect(problemsWith({ http: { tls: { selfSigned: true, behindProxy: false } } })).toEqual([expect.stringMatching(/selfSigned/), expect.stringMatching(/TLS is off/)]);
  });

  it('startServer refuses to start, naming each problem, and writes nothing', async () => {
    const config = production({ port: 0, twilio: { accountSid: '', authToken: '' }, audit: { hmacKey: null } });
    await expect(startServer(config, { logger: silentLogger() })).rejects.toThrow(
      /production configuration refused: twilio\.accountSid .*missing; twilio\.authToken .*missing; audit\.hmacKey .*missing/,
    );
    expect(existsSync(config.dataDir)).toBe(false);
  });

  it('development lists loud warnings for unsafe settings', () => {
    expect(developmentWarnings(parseConfig({ twilio: { validateSignatures: false } }))).toEqual([
      expect.stringMatching(/signature validation is OFF/),
      expect.stringMatching(/development token issuer is ON: .*bound to 127\.0\.0\.1 only \(TONEGUARD_HOST changes that\)/),
      expect.stringMatching(/generated development key/),
    ]);
    expect(developmentWarnings(parseConfig({ host: '0.0.0.0', audit: { hmacKey: 'x' } }))).toEqual([
      expect.stringMatching(/development token issuer is ON and the listener is bound to 0\.0\.0\.0: anyone who reaches the port can mint any role/),
    ]);
  });
});

describe('production refuses placeholder and weak secrets (issue 12, item 1)', () => {
  it('the shipped template holds no secret: every one is reported missing', () => {
    const template = JSON.parse(readFileSync('config/production.example.json', 'utf8')) as Json;
    const problems = productionProblems(parseConfig({ ...template, dataDir: join(secretsDir(), 'data') }));
    for (const setting of ['twilio.accountSid', 'twilio.authToken', 'vault.fingerprintKey', 'audit.hmacKey']) {
      expect(problems).toContainEqual(expect.stringMatching(new RegExp(`^${setting.replace('.', '\\.')} \\(\\w+\\) is missing$`)));
    }
  });

  const weak: Array<[string, Json, RegExp, string]> = [
    // The sentences the template used to ship, which passed the old non-empty check.
    ['the old template account SID', { twilio: { accountSid: 'set TWILIO_ACCOUNT_SID' } }, /^twilio\.accountSid \(TWILIO_ACCOUNT_SID\) is a placeholder$/, 'set TWILIO_ACCOUNT_SID'],
    ['the old template auth token', { twilio: { authToken: 'set TWILIO_AUTH_TOKEN in the environment, never here' } }, /^twilio\.authToken \(TWILIO_AUTH_TOKEN\) is a placeholder$/, 'never here'],
    ['the old template fingerprint key', { vault: { fingerprintKey: 'set TONEGUARD_FINGERPRINT_KEY in the environment' } }, /^vault\.fingerprintKey .* is a placeholder/, 'in the environment'],
    ['the old template audit key', { audit: { hmacKey: 'set TONEGUARD_AUDIT_HMAC_KEY in the environment' } }, /^audit\.hmacKey .* is a placeholder/, 'in the environment'],
    ['an account SID of another form', { twilio: { accountSid: 'AC123' } }, /^twilio\.accountSid .* is not "AC" followed by 32 lowercase hex digits$/, 'AC123'],
    ['the all-zero test account SID', { twilio: { accountSid: `AC${'0'.repeat(32)}` } }, /^twilio\.accountSid .* is one repeated byte$/, '0'.repeat(32)],
    ['an auth token of another form', { twilio: { authToken: 'token-0123456789' } }, /^twilio\.authToken .* is not 32 lowercase hex digits$/, 'token-0123456789'],
    ['an uppercase auth token', { twilio: { authToken: randomBytes(16).toString('hex').toUpperCase() } }, /^twilio\.authToken .* is not 32 lowercase hex digits$/, ''],
    ['a repeated-pattern auth token', { twilio: { authToken: 'abcd'.repeat(8) } }, /^twilio\.authToken .* repeats a short pattern$/, 'abcd'.repeat(8)],
    ['an all-zero KEK', { vault: { keks: [`1:${Buffer.alloc(32).toString('base64')}`] } }, /^vault\.keks entry 1 \(TONEGUARD_KEKS\) is one repeated byte$/, Buffer.alloc(32).toString('base64')],
    ['a counting KEK', { vault: { keks: [`1:${Buffer.from(Array.from({ length: 32 }, (_, i) => i)).toString('base64')}`] } }, /^vault\.keks entry 1 .* is a counting sequence$/, ''],
    ['a short KEK', { vault: { keks: [`1:${randomBytes(16).toString('base64')}`] } }, /^vault\.keks entry 1 .* is not a "version:base64" 256-bit key$/, ''],
    ['a second, weak KEK', { vault: { keks: [`1:${randomBytes(32).toString('base64')}`, `2:${Buffer.alloc(32, 7).toString('base64')}`] } }, /^vault\.keks entry 2 .* is one repeated byte$/, ''],
    ['a short fingerprint key', { vault: { fingerprintKey: randomBytes(31).toString('base64') } }, /^vault\.fingerprintKey .* decodes to fewer than 32 bytes$/, ''],
    ['a repeated-character fingerprint key', { vault: { fingerprintKey: 'A'.repeat(44) } }, /^vault\.fingerprintKey .* is one repeated byte$/, 'A'.repeat(44)],
    ['a fingerprint key that is not base64', { vault: { fingerprintKey: 'fingerprint-key-0123456789abcdef!' } }, /^vault\.fingerprintKey .* is not base64$/, 'fingerprint-key'],
    ['a 32-character audit key of one letter', { audit: { hmacKey: 'a'.repeat(32) } }, /^audit\.hmacKey .* decodes to fewer than 32 bytes$/, 'a'.repeat(32)],
    ['a long readable audit key', { audit: { hmacKey: 'audit-hmac-key-0123456789abcdef-0123' } }, /^audit\.hmacKey .* decodes to fewer than 32 bytes$/, 'audit-hmac-key'],
    ['a repeated-pattern audit key in hex', { audit: { hmacKey: 'deadbeef'.repeat(8) } }, /^audit\.hmacKey .* repeats a short pattern$/, 'deadbeef'],
    ['a placeholder connector password', { connector: { username: 'twilio-pay', password: 'changeme' } }, /^connector\.password .* is a placeholder$/, 'changeme'],
    ['a short connector password', { connector: { username: 'twilio-pay', password: 'Tr0ub4dor&3' } }, /^connector\.password .* is shorter than 16 characters$/, 'Tr0ub4dor'],
  ];

  it.each(weak)('refuses %s, naming the setting and never the value', (_name, over, message, secret) => {
    const problems = problemsWith(over);
    expect(problems).toEqual([expect.stringMatching(message)]);
    if (secret) expect(problems.join('\n')).not.toContain(secret);
  });

  it('accepts a hex audit key and a base64url fingerprint key of 32 random bytes', () => {
    expect(problemsWith({ audit: { hmacKey: randomBytes(32).toString('hex') }, vault: { fingerprintKey: randomBytes(32).toString('base64url') } })).toEqual([]);
  });

  it('checks the keys inside a KEK file too, naming the line', () => {
    const file = writeSecretFile(secretsDir(), 'keks', `# rotated 2026-11\n${kekFileText()}2:${Buffer.alloc(32).toString('base64')}\n`, 0o600);
    expect(problemsWith({ vault: { keks: [], kekFile: file } })).toEqual(['line 3 of vault.kekFile (TONEGUARD_KEK_FILE) is one repeated byte']);
  });
});

describe('production validation gaps (issue 12, item 2)', () => {
  it.each([
    ['auth.jwksUrl', { auth: { jwksUrl: 'http://idp.example.com/jwks' } }, /^auth\.jwksUrl \(TONEGUARD_JWKS_URL\) is not https$/],
    ['twilio.apiBaseUrl', { twilio: { apiBaseUrl: 'http://twilio-stand-in.example.com' } }, /^twilio\.apiBaseUrl \(TWILIO_API_BASE_URL\) is not https$/],
    ['a CORS (widget embedding) origin', { http: { corsOrigins: ['https://crm.example.com', 'http://crm.example.com'] } }, /^http\.corsOrigins entry 2 \(TONEGUARD_CORS_ORIGINS; also the widget's embedding origins\) is not https$/],
    ['the alert webhook', { audit: { alertWebhookUrl: 'http://siem.example.com/hooks/secret-path' } }, /^audit\.alertWebhookUrl .* is not https$/],
    ['a processor JWKS URL', { processors: [{ name: 'acme', type: 'jwe-push', url: 'https://acme.example.com/push', jwksUrl: 'http://acme.example.com/jwks' }] }, /^processors "acme" jwksUrl is not https$/],
    ['a processor push URL', { processors: [{ name: 'acme', type: 'jwe-push', url: 'http://acme.example.com/push', jwksUrl: 'https://acme.example.com/jwks' }] }, /^processors "acme" url is not https$/],
  ])('refuses a plain-http %s, without echoing the URL', (_name, over, message) => {
    const problems = problemsWith(over);
    expect(problems).toEqual([expect.stringMatching(message)]);
    expect(problems.join('\n')).not.toContain('example.com');
  });

  it.each([
    [[], 'supervisor, admin, auditor'],
    [['supervisor', 'admin'], 'auditor'],
  ])('refuses auth.mfaRoles %j (missing %s)', (mfaRoles, missing) => {
    expect(problemsWith({ auth: { mfaRoles } })).toEqual([`auth.mfaRoles must list supervisor, admin, auditor (missing: ${missing})`]);
  });

  it('accepts a private KEK file and TLS key file outside the data directory', () => {
    const dir = secretsDir();
    const kekFile = writeSecretFile(dir, 'keks', kekFileText(), 0o400);
    const keyFile = writeSecretFile(dir, 'tls.key', 'not read by the check', 0o600);
    expect(problemsWith({ vault: { keks: [], kekFile }, http: { tls: { certFile: join(dir, 'tls.crt'), keyFile, behindProxy: false } } })).toEqual([]);
  });

  it.each([
    ['group-readable', 0o640, 'mode 0640'],
    ['world-readable', 0o644, 'mode 0644'],
    ['group-writable', 0o620, 'mode 0620'],
  ])('refuses a %s KEK file or TLS key file', (_name, mode, shown) => {
    const dir = secretsDir();
    const kekFile = writeSecretFile(dir, 'keks', kekFileText(), mode);
    const keyFile = writeSecretFile(dir, 'tls.key', 'key', mode);
    expect(problemsWith({ vault: { keks: [], kekFile }, http: { tls: { certFile: join(dir, 'tls.crt'), keyFile, behindProxy: false } } })).toEqual([
      `vault.kekFile (TONEGUARD_KEK_FILE) is accessible to group or others (${shown}): make it 0600 or 0400, owned by the service user`,
      `http.tls.keyFile (TONEGUARD_TLS_KEY_FILE) is accessible to group or others (${shown}): make it 0600 or 0400, owned by the service user`,
    ]);
  });

  it('refuses a KEK file under the data directory, directly or through a link', () => {
    const config = production();
    mkdirSync(config.dataDir, { mode: 0o700 });
    const inside = writeSecretFile(config.dataDir, 'keks', kekFileText(), 0o600);
    const link = join(secretsDir(), 'keks-link');
    symlinkSync(inside, link);
    for (const kekFile of [inside, link]) {
      expect(problemsWith({ dataDir: config.dataDir, vault: { keks: [], kekFile } })).toEqual([
        'vault.kekFile (TONEGUARD_KEK_FILE) lives under the data directory (dataDir): keep secrets outside what the service writes and backs up',
      ]);
    }
  });

  it('refuses a KEK file that does not exist', () => {
    expect(problemsWith({ vault: { keks: [], kekFile: join(secretsDir(), 'absent') } })).toEqual(['vault.kekFile (TONEGUARD_KEK_FILE) names a file that does not exist']);
  });

  it('refuses an existing data directory that others can enter', () => {
    const dataDir = secretsDir();
    chmodSync(dataDir, 0o755);
    expect(problemsWith({ dataDir })).toEqual([`the data directory (dataDir, TONEGUARD_DATA_DIR) is accessible to group or others (mode 0755): chmod 700 it`]);
  });
});
