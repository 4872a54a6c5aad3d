import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryAuditSink } from '../../src/audit/types.js';
import type { ToneguardError } from '../../src/errors.js';
import { backupVault, restoreVault, verifyBackup } from '../../src/vault/backup.js';
import { readBackupFile } from '../../src/vault/backup-format.js';
import { parseBackupKey } from '../../src/vault/backup-key.js';
import { createVault, Keyring, SqliteTokenStore } from '../../src/vault/index.js';
import { holds } from '../helpers/byte-scan.js';
import { lastJsonLine, runCli } from '../helpers/cli.js';
import { readAuditRecords } from '../helpers/server.js';
import { AMEX, kek, MASTERCARD, tempDir, testConfig } from './helpers.js';

// A four-digit CVV: a three-digit run turns up by chance in kilobytes of base64 ciphertext.
const CVV = '7319';
const key = () => randomBytes(32);

/** A SQLite vault with two cards (one with a CVV held in memory) and an ID number under a subject key. */
async function filledVault() {
  const dataDir = tempDir();
  const dbPath = join(dataDir, 'vault.db');
  const store = new SqliteTokenStore(dbPath);
  const keyring = new Keyring([kek(1), kek(2)]);
  const vault = createVault({ config: testConfig({}, dataDir), keyring, store, audit: new MemoryAuditSink() });
  const actor = { type: 'system' as const, id: 'test' };
  const amex = await vault.tokenizeValues({ kind: 'card', values: { card_number: AMEX, expiry: '1239', cvv: CVV }, actor, reference: 'a' });
  const mc = await vault.tokenizeValues({ kind: 'card', values: { card_number: MASTERCARD, expiry: '1239' }, actor, reference: 'b' });
  await vault.tokenizeValues({ kind: 'identity', values: { ssn: '078051120' }, actor, reference: 'c', subjectId: 'subject-1' });
  return { dataDir, dbPath, vault, tokens: [amex.token, mc.token] };
}

const errorOf = async (work: () => unknown): Promise<ToneguardError> => {
  try {
    await work();
  } catch (err) {
    return err as ToneguardError;
  }
  throw new Error('expected a failure');
};

describe('TONEGUARD_BACKUP_KEY', () => {
  it('accepts 32 random bytes in base64 or base64url', () => {
    const bytes = randomBytes(32);
    expect(parseBackupKey(bytes.toString('base64')).equals(bytes)).toBe(true);
    expect(parseBackupKey(bytes.toString('base64url')).equals(bytes)).toBe(true);
  });

  it.each([
    ['missing', null, 'backup_key_missing'],
    ['short', randomBytes(16).toString('base64'), 'backup_key_weak'],
    ['long', randomBytes(48).toString('base64'), 'backup_key_weak'],
    ['not base64', 'not a key at all, just words here!', 'backup_key_weak'],
    ['all zeros', Buffer.alloc(32).toString('base64'), 'backup_key_weak'],
    ['a repeated pattern', Buffer.from('abcd'.repeat(8)).toString('base64'), 'backup_key_weak'],
  ])('refuses a %s key', async (_what, value, code) => {
    expect((await errorOf(() => parseBackupKey(value))).code).toBe(code);
  });
});

describe('vault backups', () => {
  it('snapshot, manifest and restore: counts, key versions, checksum; the decrypted snapshot holds no PAN and no CVV', async () => {
    const { dbPath, vault, tokens } = await filledVault();
    const backupKey = key();
    const out = join(tempDir(), 'vault.tgbak');
    const manifest = await backupVault({ dbPath, outPath: out, key: backupKey });
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(manifest).toMatchObject({ format: 1, store: 'sqlite', counts: { records: 3, subjectKeys: 1, byKind: { card: 2, identity: 1 } }, keyVersions: [2] });
    expect(await verifyBackup({ inPath: out, key: backupKey })).toEqual(manifest);

    const chunks: Buffer[] = [];
    readBackupFile(out, backupKey, (chunk) => chunks.push(Buffer.from(chunk)));
    const snapshot = Buffer.concat(chunks);
    // The scan can see the records (their tokens are in clear), and finds no card data among them.
    expect(tokens.every((token) => snapshot.includes(token))).toBe(true);
    for (const value of [AMEX, MASTERCARD, CVV, '078051120']) expect(holds(snapshot, value), value).toBe(false);
    for (const value of [AMEX, CVV, ...tokens]) expect(holds(readFileSync(out), value), value).toBe(false);

    const restoredPath = join(tempDir(), 'restored', 'vault.db');
    expect(restoreVault({ inPath: out, key: backupKey, dbPath: restoredPath })).toEqual(manifest);
    const restored = new SqliteTokenStore(restoredPath);
    expect((await restored.get(tokens[0]))?.last4).toBe('0005');
    await restored.close();
    await vault.close();
  });

  it('every damaged byte, cut, addition or other key is refused, naming no value', async () => {
    const { dbPath, vault } = await filledVault();
    await vault.close();
    const backupKey = key();
    const out = join(tempDir(), 'vault.tgbak');
    await backupVault({ dbPath, outPath: out, key: backupKey });
    const good = readFileSync(out);
    const variant = (bytes: Buffer) => {
      const path = join(tempDir(), 'variant.tgbak');
      writeFileSync(path, bytes);
      return path;
    };
    const flipped = (at: number) => {
      const copy = Buffer.from(good);
      copy[at] ^= 0x01;
      return copy;
    };
    const headerEnd = 12 + good.readUInt32BE(8);
    const cases: [string, Buffer][] = [
      ['magic', flipped(0)],
      ['header', flipped(20)],
      ['manifest segment', flipped(headerEnd + 30)],
      ['snapshot segment', flipped(good.length - 100)],
      ['last tag', flipped(good.length - 1)],
      ['cut short', good.subarray(0, good.length - 10)],
      ['trailing bytes', Buffer.concat([good, Buffer.from('x')])],
    ];
    for (const [what, bytes] of cases) {
      const err = await errorOf(() => verifyBackup({ inPath: variant(bytes), key: backupKey }));
      expect(err.code, what).toBe('backup_invalid');
    }
    expect((await errorOf(() => verifyBackup({ inPath: out, key: key() }))).code).toBe('backup_key_mismatch');
    const target = join(tempDir(), 'vault.db');
    expect((await errorOf(() => restoreVault({ inPath: variant(flipped(good.length - 100)), key: backupKey, dbPath: target }))).code).toBe('backup_invalid');
    expect(existsSync(target) || existsSync(`${target}.restoring`)).toBe(false);
  });

  it('restore refuses a data directory that already holds a vault, and a backup never overwrites a file', async () => {
    const { dbPath, vault } = await filledVault();
    const backupKey = key();
    const out = join(tempDir(), 'vault.tgbak');
    await backupVault({ dbPath, outPath: out, key: backupKey });
    expect((await errorOf(() => restoreVault({ inPath: out, key: backupKey, dbPath }))).code).toBe('restore_target_not_empty');
    expect((await errorOf(() => backupVault({ dbPath, outPath: out, key: backupKey }))).code).toBe('backup_exists');
    await vault.close();
  });
});

describe('toneguard vault backup | backup-verify (CLI)', () => {
  it('backs up and verifies: one line and a non-zero exit on a damaged file; both audited (restore: see the restore drill)', async () => {
    const { dataDir, vault } = await filledVault();
    await vault.close();
    const env = { TONEGUARD_DATA_DIR: dataDir, TONEGUARD_BACKUP_KEY: key().toString('base64') };
    const out = join(tempDir(), 'nightly.tgbak');
    const backup = runCli(['vault', 'backup', '--out', out], { env });
    expect(backup.status, backup.stderr).toBe(0);
    expect(lastJsonLine<{ manifest: { counts: { records: number } } }>(backup.stdout).manifest.counts.records).toBe(3);

    const damaged = Buffer.from(readFileSync(out));
    damaged[damaged.length - 50] ^= 0xff;
    writeFileSync(`${out}.bad`, damaged);
    const bad = runCli(['vault', 'backup-verify', `${out}.bad`], { env });
    expect(bad.status).not.toBe(0);
    const lines = bad.stderr.trim().split('\n').filter((l) => l.startsWith('toneguard:'));
    expect(lines).toEqual(['toneguard: the backup is damaged or was tampered with (segment 1 does not authenticate)']);

    const trail = readAuditRecords(dataDir).map((r) => [r.action, r.outcome]);
    expect(trail).toEqual(expect.arrayContaining([['vault.backup', 'success'], ['vault.backup_verified', 'failure']]));
  });
});
