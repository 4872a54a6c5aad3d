import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { formatKek, Keyring, SqliteTokenStore } from '../../src/vault/index.js';
import { cardRequest, kek, PROCESSOR, tempDir, VISA, vaultFixture } from './helpers.js';

describe('SqliteTokenStore', () => {
  it('keeps records across a reopen, in WAL mode with full synchronous commits', async () => {
    const path = join(tempDir(), 'vault.db');
    const keyring = new Keyring([kek(1)]);
    const first = vaultFixture({ store: new SqliteTokenStore(path), keyring });
    const { token } = await first.vault.tokenize(cardRequest({ card_number: VISA, expiry: '1230', cvv: '123' }));
    const subject = await first.vault.tokenize(cardRequest({ ssn: '123456789' }, 'subj-1'));
    await first.vault.close();

    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();

    const second = vaultFixture({ store: new SqliteTokenStore(path), keyring });
    const record = await second.vault.detokenize(token, { actor: PROCESSOR, processor: PROCESSOR.id, includeCvv: true });
    expect(record.fields).toEqual({ card_number: VISA, expiry: '1230' });
    // The CVV lived in the first process's memory only.
    expect(record.cvv).toBeUndefined();
    expect((await second.vault.detokenize(subject.token, { actor: PROCESSOR, processor: PROCESSOR.id })).fields.ssn).toBe('123456789');
    expect(await second.store.countByKeyVersion()).toEqual([{ keyVersion: 1, records: 2, subjectKeys: 1 }]);
    await second.vault.close();
  });

  it('commits concurrent inserts together, failing only the one that conflicts', async () => {
    const store = new SqliteTokenStore(join(tempDir(), 'vault.db'));
    const { vault } = vaultFixture({ store });
    const { token } = await vault.tokenize(cardRequest({ card_number: VISA }));
    const row = (await store.get(token))!;
    const outcomes = await Promise.allSettled([
      store.insert({ ...row, token: 'tok_a' }),
      store.insert(row),
      store.insert({ ...row, token: 'tok_b' }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'token_conflict' });
    expect(await store.get('tok_a')).toBeDefined();
    expect(await store.get('tok_b')).toBeDefined();
    await vault.close();
  });

  it('shreds a subject atomically: key and records go together', async () => {
    const store = new SqliteTokenStore(join(tempDir(), 'vault.db'));
    const { vault } = vaultFixture({ store });
    for (const ssn of ['123456789', '123456780']) await vault.tokenize(cardRequest({ ssn }, 'subj-1'));
    expect(await store.shredSubject('subj-1')).toBe(2);
    expect(await store.getSubjectKey('subj-1')).toBeUndefined();
    expect(await store.countByKeyVersion()).toEqual([]);
    await vault.close();
  });

  it('is consistent after the writing process is killed mid-write', async () => {
    const dir = tempDir();
    const path = join(dir, 'vault.db');
    const key = randomBytes(32);
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, 'crash-writer.ts'), path, formatKek(1, key)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const acknowledged: string[] = [];
    await new Promise<void>((done) => {
      let buffered = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        acknowledged.push(...lines);
        if (acknowledged.length >= 400 && !child.killed) {
          child.kill('SIGKILL');
          done();
        }
      });
    });
    await new Promise((done) => child.once('exit', done));

    const db = new Database(path);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
    const { vault, store } = vaultFixture({ store: new SqliteTokenStore(path), keyring: new Keyring([{ version: 1, key, createdAt: null }]) });
    // Every write acknowledged before the kill survived, and every row present is whole.
    for (const token of acknowledged.slice(0, 400)) expect(await store.get(token)).toBeDefined();
    const rows = await store.wrappedNotUnder(0, 1_000_000);
    expect(rows.length).toBeGreaterThanOrEqual(400);
    for (const ref of rows.filter((r) => r.table === 'record')) {
      expect((await vault.detokenize(ref.id, { actor: PROCESSOR, processor: PROCESSOR.id })).fields.card_number).toBe(VISA);
    }
    await vault.close();
  });
});
