import { randomBytes } from 'node:crypto';
import { readFileSync, existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryAuditSink } from '../../src/audit/types.js';
import { disposeOldRecordings } from '../../src/media/retention.js';
import { createVault, Keyring, loadKeyring, SqliteTokenStore, type StoredRecord } from '../../src/vault/index.js';
import { disposeExpiredTokens } from '../../src/vault/sweeper.js';
import { lastJsonLine, runCli } from '../helpers/cli.js';
import { readAuditRecords, startTestServer } from '../helpers/server.js';
import { AMEX, kek, MASTERCARD, tempDir, testConfig, VISA } from './helpers.js';

const DAY = 86_400_000;

/** The vault's files as they are on disk now: the database, its WAL and shared memory. */
function vaultBytes(dbPath: string): Buffer {
  return Buffer.concat(['', '-wal', '-shm'].map((suffix) => (existsSync(dbPath + suffix) ? readFileSync(dbPath + suffix) : Buffer.alloc(0))));
}

/** What identifies a record's secret on disk: its wrapped data key and its ciphertext. */
const secretsOf = (record: StoredRecord): string[] => [record.wrappedKey, record.ciphertext];

async function sqliteVault(dataDir = tempDir()) {
  const dbPath = join(dataDir, 'vault.db');
  const store = new SqliteTokenStore(dbPath);
  const clock = { now: Date.UTC(2026, 0, 15) };
  const audit = new MemoryAuditSink();
  const vault = createVault({ config: testConfig({ tokenTtlMs: DAY }, dataDir), keyring: new Keyring([kek(1)]), store, audit, clock: () => clock.now });
  const tokenize = async (values: Record<string, string>) =>
    (await vault.tokenizeValues({ kind: values.card_number ? 'card' : 'generic', values, actor: { type: 'system', id: 'test' }, reference: 'r', readers: ['acme'] })).token;
  return { dataDir, dbPath, store, clock, audit, vault, tokenize };
}

describe('disposal of expired tokens (crypto-shredding)', () => {
  it('deletes expired records in bounded, audited batches; their wrapped keys and ciphertexts leave every vault file', async () => {
    const { dbPath, store, clock, audit, vault, tokenize } = await sqliteVault();
    const expiring = [await tokenize({ account: '12345678' }), await tokenize({ account: '23456789' }), await tokenize({ account: '34567890' })];
    const live = await tokenize({ card_number: VISA, expiry: '1239' });
    const records = await Promise.all(expiring.map(async (token) => (await store.get(token))!));
    const secrets = records.flatMap(secretsOf);
    expect(secrets.every((s) => vaultBytes(dbPath).includes(s))).toBe(true);

    clock.now += 2 * DAY;
    const result = await disposeExpiredTokens(store, audit, { now: clock.now, batchSize: 2 });
    expect(result).toEqual({ disposed: 3, flushed: true });
    const events = audit.events.filter((e) => e.action === 'vault.disposed');
    expect(events.map((e) => e.details?.count)).toEqual([2, 1]);
    expect(events.flatMap((e) => String(e.details?.tokens).split(',')).sort()).toEqual([...expiring].sort());
    for (const token of expiring) expect(await store.get(token)).toBeUndefined();
    const bytes = vaultBytes(dbPath);
    for (const secret of secrets) expect(bytes.includes(secret), 'a disposed secret is still on disk').toBe(false);
    expect((await vault.detokenize(live, { actor: { type: 'processor', id: 'acme' }, processor: 'acme' })).fields.card_number === VISA).toBe(true);
    expect(await disposeExpiredTokens(store, audit, { now: clock.now, batchSize: 2 })).toEqual({ disposed: 0, flushed: true });
    await vault.close();
  });

  it('an expired token read before the sweep is deleted on that read and recorded as disposed', async () => {
    const { clock, audit, vault, tokenize } = await sqliteVault();
    const token = await tokenize({ account: '12345678' });
    clock.now += 2 * DAY;
    await expect(vault.detokenize(token, { actor: { type: 'processor', id: 'acme' }, processor: 'acme' })).rejects.toMatchObject({ code: 'token_expired' });
    expect(audit.events.find((e) => e.action === 'vault.disposed')).toMatchObject({ resource: { type: 'token', id: token }, details: { reason: 'expired' } });
    await vault.close();
  });
});

describe('toneguard vault shred (CLI)', () => {
  it('erases one token for a data-subject request: gone from every vault file, audited without the card', async () => {
    const { dataDir, dbPath, store, vault, tokenize } = await sqliteVault();
    const erased = await tokenize({ card_number: AMEX, expiry: '1239' });
    const kept = await tokenize({ card_number: MASTERCARD, expiry: '1239' });
    const secrets = secretsOf((await store.get(erased))!);
    await vault.close();

    const shred = runCli(['vault', 'shred', erased], { env: { TONEGUARD_DATA_DIR: dataDir } });
    expect(shred.status, shred.stderr).toBe(0);
    expect(lastJsonLine(shred.stdout)).toEqual({ shredded: true, disposed: 1, flushed: true });
    const bytes = vaultBytes(dbPath);
    for (const secret of secrets) expect(bytes.includes(secret)).toBe(false);
    expect(bytes.includes(erased)).toBe(false);
    expect(bytes.includes(kept)).toBe(true);
    const event = readAuditRecords(dataDir).find((r) => r.action === 'vault.shred');
    expect(event).toMatchObject({ outcome: 'success', actor: { type: 'operator' }, resource: { type: 'token', id: erased } });
    expect(JSON.stringify(readAuditRecords(dataDir))).not.toContain(AMEX);
  });
});

describe('recording retention', () => {
  it('deletes finished recordings older than recording.retentionDays, audited by id; newer and partial files stay', async () => {
    const dir = join(tempDir(), 'recordings');
    mkdirSync(dir);
    const now = Date.UTC(2026, 5, 1);
    const file = (name: string, ageDays: number) => {
      writeFileSync(join(dir, name), 'x');
      const at = new Date(now - ageDays * DAY);
      utimesSync(join(dir, name), at, at);
    };
    file('CA01-1.tgrec', 91);
    file('CA02-2.tgrec', 89);
    file('CA03-3.tgrec.partial', 200);
    file('notes.txt', 200);
    const audit = new MemoryAuditSink();
    await expect(disposeOldRecordings(dir, { retentionDays: 90, now, audit })).resolves.toBe(1);
    expect(['CA01-1.tgrec', 'CA02-2.tgrec', 'CA03-3.tgrec.partial', 'notes.txt'].map((n) => existsSync(join(dir, n)))).toEqual([false, true, true, true]);
    expect(audit.events).toEqual([expect.objectContaining({ action: 'recording.disposed', details: expect.objectContaining({ count: 1, recordings: 'CA01-1' }) })]);
    await expect(disposeOldRecordings(join(dir, 'missing'), { retentionDays: 90, now, audit })).resolves.toBe(0);
  });

  it('examines a large directory without holding the event loop: other work runs while it sweeps', async () => {
    const dir = join(tempDir(), 'recordings');
    mkdirSync(dir);
    const now = Date.UTC(2026, 5, 1);
    const old = new Date(now - 91 * DAY);
    for (let i = 0; i < 400; i++) {
      const name = join(dir, `CA${String(i).padStart(4, '0')}-1.tgrec`);
      writeFileSync(name, 'x');
      if (i % 2 === 0) utimesSync(name, old, old);
    }
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    const audit = new MemoryAuditSink();
    const disposed = await disposeOldRecordings(dir, { retentionDays: 90, now, audit });
    clearInterval(ticker);
    expect(disposed).toBe(200);
    // A synchronous sweep (readdirSync and statSync per file) finished before any timer could run.
    expect(turns).toBeGreaterThan(0);
    expect(audit.events[0].details).toMatchObject({ count: 200 });
  });
});

describe('the running service disposes at start and on its timer (slow, real service)', () => {
  it('sweeps an expired token and an old recording, audited in its trail', async () => {
    const dataDir = tempDir();
    const keks = [`1:${randomBytes(32).toString('base64')}`];
    const config = testConfig({ keks, tokenTtlMs: DAY }, dataDir);
    const store = new SqliteTokenStore(join(dataDir, 'vault.db'));
    const long = Date.now() - 2 * DAY;
    const vault = createVault({ config, keyring: loadKeyring(config, { dataDir, profile: 'development' }).keyring, store, audit: new MemoryAuditSink(), clock: () => long });
    const expired = (await vault.tokenizeValues({ kind: 'generic', values: { account: '12345678' }, actor: { type: 'system', id: 'test' }, reference: 'r', readers: ['acme'] })).token;
    await vault.close();
    mkdirSync(join(dataDir, 'recordings'));
    const recording = join(dataDir, 'recordings', 'CA09-1.tgrec');
    writeFileSync(recording, 'x');
    utimesSync(recording, new Date(long - 100 * DAY), new Date(long - 100 * DAY));

    const server = await startTestServer({ dataDir, vault: { keks } });
    try {
      await expect.poll(() => readAuditRecords(dataDir).map((r) => r.action), { timeout: 10_000 }).toEqual(expect.arrayContaining(['vault.disposed', 'recording.disposed']));
      expect(readAuditRecords(dataDir).find((r) => r.action === 'vault.disposed')?.details).toMatchObject({ reason: 'expired', count: 1, tokens: expired });
      expect(await server.context.vault.info(expired)).toBeUndefined();
      expect(existsSync(recording)).toBe(false);
    } finally {
      await server.close();
    }
  });
});
