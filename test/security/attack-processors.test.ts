import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { SignJWT, compactDecrypt } from 'jose';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryAuditSink } from '../../src/audit/types.js';
import { asciiDigits } from '../../src/capture/digits.js';
import { parseConfig } from '../../src/config/index.js';
import { CLIENT_ASSERTION_TYPE } from '../../src/processors/client-auth.js';
import { enrollProcessor, processorPaths } from '../../src/processors/enrollment.js';
import { MAX_MASKED_LENGTH, readMask } from '../../src/telephony/twilio/payments-status.js';
import { seal } from '../../src/vault/aead.js';
import { Keyring, SqliteTokenStore, createVault, newToken } from '../../src/vault/index.js';
import { encodeFields } from '../../src/vault/payload.js';
import { recordKeyAad } from '../../src/vault/rewrap.js';
import { processorKeyPairs, type ProcessorKeyPairs } from '../processors/keys.js';
import { startTestServer, TEST_AUTH_TOKEN, type TestServer } from '../helpers/server.js';

/**
 * The processor-side attacks of issue 12, each kept closed against the real service (real
 * sockets, real SQLite files under a real data directory) or, for stored rows, the real vault on
 * a real vault.db.
 */

const PUBLIC_URL = 'https://toneguard.test';
const CONNECTOR = { username: 'twilio-connector', password: 'connector-password-0123' };
/** The card the callers type. */
const CARD = '5555555555554444';
const CVV = '737';
/** The card an attacker hides in a transaction_id: it must appear nowhere. */
const HIDDEN_PAN = '4111111111111111';
const EXPIRY_YEAR = String((new Date().getUTCFullYear() + 2) % 100).padStart(2, '0');

let alpha: ProcessorKeyPairs;
let beta: ProcessorKeyPairs;

beforeAll(async () => {
  [alpha, beta] = await Promise.all([processorKeyPairs('alpha'), processorKeyPairs('beta')]);
});

/** The service with `alpha` as its configured pull processor; `beta` is enrolled too, but configured for nothing. */
async function startService(dataDir?: string): Promise<TestServer> {
  const server = await startTestServer({
    ...(dataDir ? { dataDir } : {}),
    processors: [{ name: 'alpha', type: 'vault' }],
    connector: CONNECTOR,
    http: { bodyLimitBytes: 2_000_000 },
  });
  if (!dataDir) for (const [name, keys] of [['alpha', alpha], ['beta', beta]] as const) await enrollProcessor(server.dataDir, name, keys.jwks);
  return server;
}

function assertion(name: 'alpha' | 'beta', options: { expiresInSec?: number } = {}): Promise<string> {
  const keys = name === 'alpha' ? alpha : beta;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: keys.sigKid })
    .setIssuer(name)
    .setSubject(name)
    .setAudience(`${PUBLIC_URL}/v1/detokenize`)
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + (options.expiresInSec ?? 120))
    .sign(keys.sigPrivate);
}

async function detokenize(server: TestServer, clientAssertion: string, token: string, includeCvv = true): Promise<{ status: number; body: string }> {
  const res = await fetch(`${server.url}/v1/detokenize`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, include_cvv: includeCvv, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: clientAssertion }),
  });
  return { status: res.status, body: await res.text() };
}

async function connector(server: TestServer, transactionId: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.url}/connectors/twilio-pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${CONNECTOR.username}:${CONNECTOR.password}`).toString('base64')}` },
    body: JSON.stringify({ method: 'tokenize', transaction_id: transactionId, cardnumber: CARD, cvv: CVV, expiry_month: '12', expiry_year: EXPIRY_YEAR }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function tokenForAlpha(server: TestServer): Promise<string> {
  const answer = await connector(server, randomUUID());
  expect(answer.body.error_code).toBeNull();
  return answer.body.token_id as string;
}

async function decrypt(jwe: string, keys: ProcessorKeyPairs): Promise<Record<string, unknown>> {
  const { plaintext } = await compactDecrypt(jwe, keys.encPrivate);
  return JSON.parse(Buffer.from(plaintext).toString('utf8')) as Record<string, unknown>;
}

/** Every file under `dir`, recursively, as bytes. */
function filesUnder(dir: string): { path: string; bytes: Buffer }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [{ path, bytes: readFileSync(path) }];
  });
}

describe('processor scoping on the running service (slow, real service)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startService();
  });
  afterAll(() => server.close());

  it("processor beta cannot read alpha's token nor take alpha's one-time CVV, and learns nothing from trying", async () => {
    const token = await tokenForAlpha(server);

    const stolen = await detokenize(server, await assertion('beta'), token);
    const unknown = await detokenize(server, await assertion('beta'), newToken());
    expect(stolen.status).toBe(404);
    expect(stolen).toEqual(unknown);
    expect(JSON.parse(stolen.body)).toEqual({ error: { code: 'token_not_found', message: 'No such token' } });

    const denials = server.auditRecords().filter((r) => r.outcome === 'denied' && r.resource?.id === token);
    expect(denials.map((r) => [r.action, r.actor.id, r.details?.code])).toEqual(
      expect.arrayContaining([
        ['vault.detokenize', 'beta', 'processor_not_bound'],
        ['processor.detokenize', 'beta', 'processor_not_bound'],
      ]),
    );
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^toneguard_processor_detokenize_denied_total\{processor="beta"\} 1$/m);

    const own = await detokenize(server, await assertion('alpha'), token);
    expect(own.status).toBe(200);
    const record = await decrypt(own.body, alpha);
    expect((record.fields as Record<string, string>).card_number === CARD).toBe(true);
    expect(record.cvv === CVV).toBe(true);
  });

  it('refuses an assertion whose exp is further away than detokenize.maxAssertionLifetimeSec', async () => {
    const token = await tokenForAlpha(server);
    const res = await detokenize(server, await assertion('alpha', { expiresInSec: 3600 }), token);
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body).error.code).toBe('client_assertion_lifetime_too_long');
    expect((await detokenize(server, await assertion('alpha', { expiresInSec: 290 }), token)).status).toBe(200);
  });

  it('refuses a 1 MB masked value in a Twilio Pay status callback at the edge, and takes a bounded one', async () => {
    const post = async (params: Record<string, string>) => {
      const url = `${PUBLIC_URL}/twilio/status/payments`;
      const res = await fetch(`${server.url}/twilio/status/payments`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(TEST_AUTH_TOKEN, url, params) },
        body: new URLSearchParams(params).toString(),
      });
      return { status: res.status, body: await res.text() };
    };
    const ids = { Sid: `PK${'0'.repeat(32)}`, CallSid: `CA${'0'.repeat(32)}`, Capture: 'payment-card-number', PartialResult: 'true' };
    const huge = await post({ ...ids, PaymentCardNumber: `${'1'.repeat(1_000_000)}x` });
    expect(huge.status).toBe(400);
    expect(JSON.parse(huge.body).error).toEqual({ code: 'invalid_callback', message: 'missing, malformed or too long: PaymentCardNumber' });
    const bounded = await post({ ...ids, PaymentCardNumber: `${'x'.repeat(MAX_MASKED_LENGTH - 4)}1111` });
    expect(bounded.status).toBe(204);
  });

  it('refuses a transaction_id that hides a card number, which then appears in no log line, audit record or data file', async () => {
    for (const id of ['abc4111111111111111def', 'tx-4111-1111-1111-1111', `PK${HIDDEN_PAN}`, 'a'.repeat(65), 'has space', '']) {
      const res = await connector(server, id);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error_code: 'invalid_transaction_id', error_message: expect.stringContaining('transaction_id must be') });
    }
    // What Twilio sends still goes through: a payment SID (whatever digits its hex holds) and a UUID.
    // `PK` and 32 fours holds a Luhn-valid run of 17 digits: a SID is Twilio's, taken as it is.
    for (const id of [`PK${'4'.repeat(32)}`, randomUUID()]) {
      expect((await connector(server, id)).body.error_code).toBeNull();
    }
    const written = [...server.logLines.map((line) => ({ path: 'log', bytes: Buffer.from(line) })), ...filesUnder(server.dataDir)];
    const leaks = written.filter((file) => file.bytes.includes(HIDDEN_PAN) || file.bytes.includes('4111-1111-1111-1111'));
    expect(leaks.map((file) => file.path)).toEqual([]);
    expect(filesUnder(server.dataDir).some((file) => file.path.endsWith('connector.db'))).toBe(true);
  });
});

describe('the private_key_jwt replay store survives a restart (slow, real service)', () => {
  it('refuses, after a restart, an assertion already used before it; the store is private to the service user', async () => {
    const first = await startService();
    const token = await tokenForAlpha(first);
    const once = await assertion('alpha');
    expect((await detokenize(first, once, token, false)).status).toBe(200);
    await first.close();

    const second = await startService(first.dataDir);
    try {
      const replayed = await detokenize(second, once, token, false);
      expect(replayed.status).toBe(401);
      expect(JSON.parse(replayed.body).error.code).toBe('client_assertion_replayed');
      expect((await detokenize(second, await assertion('alpha'), token, false)).status).toBe(200);
    } finally {
      await second.close();
    }
    const store = processorPaths(first.dataDir).usedAssertions;
    for (const path of [store, `${store}-wal`, `${store}-shm`].filter(existsSync)) expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});

describe('bindings stored in a real vault.db', () => {
  const keyring = new Keyring([{ version: 1, key: randomBytes(32), createdAt: null }], { fingerprintKey: randomBytes(32) });
  const vaultOn = (path: string, unboundReaders: string[] = []) => {
    const audit = new MemoryAuditSink();
    const config = parseConfig({ vault: { unboundReaders } });
    return { vault: createVault({ config, keyring, store: new SqliteTokenStore(path), audit }), audit };
  };
  const read = (vault: ReturnType<typeof vaultOn>['vault'], token: string, processor: string) =>
    vault.detokenize(token, { actor: { type: 'processor', id: processor }, processor }).then(
      (record) => record.fields.card_number,
      (err: { code: string }) => err.code,
    );

  /** A vault.db as the vault wrote it before bindings: no readers column, the ciphertext bound to the token alone. */
  function legacyVault(): { path: string; token: string } {
    const path = join(mkdtemp(), 'vault.db');
    const db = new Database(path);
    db.exec(`CREATE TABLE records (token TEXT PRIMARY KEY, kind TEXT NOT NULL, brand TEXT, bin TEXT, last4 TEXT, alias TEXT UNIQUE,
      subject_id TEXT, fingerprint TEXT, key_version INTEGER NOT NULL, wrapped_key TEXT NOT NULL, ciphertext TEXT NOT NULL,
      created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL) STRICT`);
    const token = newToken();
    const { key, wrapped } = keyring.newDataKey(recordKeyAad(token));
    const ciphertext = seal(key, encodeFields(new Map([['card_number', asciiDigits(CARD)]])), token).toString('base64url');
    db.prepare('INSERT INTO records VALUES (?, ?, ?, ?, ?, NULL, NULL, NULL, ?, ?, ?, ?, ?)').run(
      token, 'card', 'mastercard', '555555', '4444', wrapped.keyVersion, wrapped.wrapped, ciphertext, Date.now(), Date.now() + 86_400_000,
    );
    db.close();
    return { path, token };
  }

  it('a row stored before bindings is readable by no processor, unless vault.unboundReaders names it', async () => {
    const { path, token } = legacyVault();
    const closed = vaultOn(path);
    expect(await read(closed.vault, token, 'alpha')).toBe('token_not_found');
    expect(closed.audit.events.at(-1)).toMatchObject({ action: 'vault.detokenize', outcome: 'denied', details: { code: 'processor_not_bound' } });
    await closed.vault.close();
    const migrated = new Database(path, { readonly: true });
    expect(migrated.prepare('SELECT readers FROM records WHERE token = ?').get(token)).toEqual({ readers: null });
    migrated.close();

    const listed = vaultOn(path, ['alpha']);
    expect(await read(listed.vault, token, 'alpha')).toBe(CARD);
    expect(await read(listed.vault, token, 'beta')).toBe('token_not_found');
    await listed.vault.close();
  });

  it('widening or removing a binding in vault.db makes the record undecryptable instead of readable', async () => {
    const path = join(mkdtemp(), 'vault.db');
    const { vault } = vaultOn(path);
    const values = { card_number: CARD, expiry: `12${EXPIRY_YEAR}` };
    const { token } = await vault.tokenizeValues({ kind: 'card', values, actor: { type: 'system', id: 'test' }, reference: 'r', readers: ['alpha'] });
    await vault.close();
    for (const readers of [JSON.stringify(['alpha', 'beta']), null]) {
      const db = new Database(path);
      db.prepare('UPDATE records SET readers = ? WHERE token = ?').run(readers, token);
      db.close();
      // With NULL the row passes for an older, unbound one that unboundReaders would open to beta.
      const tampered = vaultOn(path, ['beta']);
      expect(await read(tampered.vault, token, 'beta')).toBe('decrypt_failed');
      await tampered.vault.close();
    }
  });
});

const mkdtemp = (): string => mkdtempSync(join(tmpdir(), 'toneguard-attack-'));

describe('readMask reads a masked value in one linear pass', () => {
  /** The documented rule, written the obvious way: mask characters and digits are positions; the trailing digits are kept. */
  const reference = (masked: string) => {
    const positions = [...masked].filter((ch) => /[0-9xX*•#]/.test(ch));
    let trailing = '';
    for (let i = positions.length - 1; i >= 0 && /[0-9]/.test(positions[i]); i--) trailing = positions[i] + trailing;
    return { digitCount: positions.length, trailingDigits: trailing };
  };
  const maskText = fc.string({ unit: fc.constantFrom(...'0123456789xX*•#-/ .'.split('')), maxLength: MAX_MASKED_LENGTH });

  it('agrees with the documented rule on every value up to the edge bound', () => {
    fc.assert(
      fc.property(maskText, (masked) => {
        expect(readMask(masked)).toEqual(reference(masked));
      }),
    );
  });

  it('reads each character exactly once, so the work grows linearly with the length', () => {
    const reads = (masked: string): number => {
      let count = 0;
      readMask({
        *[Symbol.iterator]() {
          for (const ch of masked) {
            count++;
            yield ch;
          }
        },
      });
      return count;
    };
    fc.assert(
      fc.property(maskText, (masked) => {
        expect(reads(masked)).toBe([...masked].length);
      }),
    );
    // The shape that made the old regex quadratic: a long digit run, then a mask character.
    for (const n of [1_000, 2_000, 4_000, 8_000]) expect(reads(`${'1'.repeat(n)}x`)).toBe(n + 1);
  });
});
