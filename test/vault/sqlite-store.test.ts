import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { fdatasyncOffTheLoop } from '../../src/audit/trail-files.js';
import { formatKek, Keyring, SqliteTokenStore, type StoredRecord, type TokenStore } from '../../src/vault/index.js';
import { COMMITS_PER_CHECKPOINT } from '../../src/vault/wal-checkpointer.js';
import { sampleRecord } from './store-contract.js';
import { cardRequest, kek, PROCESSOR, tempDir, VISA, vaultFixture } from './helpers.js';

/** A store whose WAL fdatasyncs wait until the test releases them (or fail, with `failing`). */
function heldSyncStore() {
  const state = { syncs: 0, fds: [] as number[], failing: false, release: () => undefined as void };
  const path = join(tempDir(), 'vault.db');
  const store = new SqliteTokenStore(path, {
    async syncWal(fd) {
      state.syncs += 1;
      state.fds.push(fd);
      await new Promise<void>((done) => (state.release = done));
      if (state.failing) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
      return fdatasyncOffTheLoop(fd);
    },
  });
  return { state, path, store };
}

const nextTurn = () => new Promise((done) => setImmediate(done));

/** Whether `promise` has settled by the time the loop has turned a few times. */
async function settledSoon(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 5; i++) await nextTurn();
  return settled;
}

describe('SqliteTokenStore', () => {
  it('keeps records across a reopen, in WAL mode', async () => {
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

  it('resolves an insert only once the WAL holding its commit is fdatasynced off the event loop; concurrent inserts share one sync', async () => {
    const { state, path, store } = heldSyncStore();
    const inserts = ['tok_a', 'tok_b', 'tok_c'].map((token) => store.insert(sampleRecord(token)));
    await vi.waitFor(() => expect(state.syncs).toBe(1));
    // The sync is of the WAL file, and starts after the commit: another connection already sees the rows.
    expect(fstatSync(state.fds[0]).ino).toBe(statSync(`${path}-wal`).ino);
    const reader = new Database(path, { readonly: true });
    expect(reader.prepare('SELECT COUNT(*) AS n FROM records').get()).toEqual({ n: 3 });
    reader.close();
    expect(await settledSoon(Promise.race(inserts))).toBe(false);
    state.release();
    await Promise.all(inserts);
    expect(state.syncs).toBe(1);
    await store.close();
  });

  it('makes every other write wait for the WAL sync before it resolves', async () => {
    const { state, store } = heldSyncStore();
    const row = sampleRecord('tok_a', { subjectId: 'subj-1' });
    const seed = store.insert(row);
    await vi.waitFor(() => expect(state.syncs).toBe(1));
    state.release();
    await seed;
    const writes: ((s: TokenStore) => Promise<unknown>)[] = [
      (s) => s.replace({ ...row, ciphertext: 'sealed-again' } satisfies StoredRecord),
      (s) => s.ensureSubjectKey({ subjectId: 'subj-1', keyVersion: 1, wrappedKey: 'wrapped', createdAt: 0 }),
      (s) => s.updateWrapped([{ ref: { table: 'record', id: 'tok_a', keyVersion: 1, wrappedKey: row.wrappedKey }, next: { keyVersion: 2, wrapped: 'rewrapped' } }]),
      (s) => s.disposeExpired(0, 10),
      (s) => s.deleteExpired(0),
      (s) => s.shredSubject('subj-1'),
      (s) => s.delete('tok_a'),
    ];
    for (const [i, write] of writes.entries()) {
      const writing = write(store);
      await vi.waitFor(() => expect(state.syncs).toBe(i + 2));
      expect(await settledSoon(writing)).toBe(false);
      state.release();
      await writing;
    }
    await store.close();
  });

  it('rejects the writes waiting on a WAL sync that failed', async () => {
    const { state, store } = heldSyncStore();
    const inserting = store.insert(sampleRecord('tok_a'));
    await vi.waitFor(() => expect(state.syncs).toBe(1));
    state.failing = true;
    state.release();
    await expect(inserting).rejects.toMatchObject({ code: 'EIO' });
    await store.close();
  });

  it('settles a synced commit a slice per turn, so a read queued meanwhile is not stuck behind all of it', async () => {
    const { state, store } = heldSyncStore();
    const order: string[] = [];
    const inserts = Array.from({ length: 40 }, (_, i) => store.insert(sampleRecord(`tok_${i}`)).then(() => order.push(`stored ${i}`)));
    await vi.waitFor(() => expect(state.syncs).toBe(1));
    state.release();
    await inserts[0];
    setImmediate(() => order.push('read'));
    await Promise.all(inserts);
    expect(order.indexOf('read')).toBeGreaterThan(0);
    expect(order.indexOf('read')).toBeLessThan(order.length - 1);
    expect(state.syncs).toBe(1);
    await store.close();
  });

  it('checkpoints the WAL on a worker: no commit on the main connection runs one', async () => {
    const pragmas = vi.spyOn(Database.prototype, 'pragma');
    const path = join(tempDir(), 'vault.db');
    const store = new SqliteTokenStore(path);
    const emptySize = statSync(path).size;
    for (let i = 0; i < COMMITS_PER_CHECKPOINT; i++) await store.insert(sampleRecord(`tok_${i}`));
    // The rows reach the database file itself, copied there by the worker's connection.
    await vi.waitFor(() => expect(statSync(path).size).toBeGreaterThan(emptySize), { timeout: 20_000 });
    const mainThread = pragmas.mock.calls.map(([sql]) => sql);
    pragmas.mockRestore();
    expect(mainThread).toContain('wal_autocheckpoint = 0');
    expect(mainThread.filter((sql) => sql.includes('wal_checkpoint'))).toEqual([]);
    await store.close();
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT COUNT(*) AS n FROM records').get()).toEqual({ n: COMMITS_PER_CHECKPOINT });
    db.close();
  });

  it('starts the WAL over after checkpoints while inserts keep coming, instead of letting it grow', async () => {
    const path = join(tempDir(), 'vault.db');
    const store = new SqliteTokenStore(path);
    // Salt-1 of the WAL header: SQLite changes it each time the WAL starts over from its beginning.
    const salt = (): number => {
      const fd = openSync(`${path}-wal`, 'r');
      const header = Buffer.alloc(32);
      readSync(fd, header, 0, 32, 0);
      closeSync(fd);
      return header.readUInt32BE(16);
    };
    await store.insert(sampleRecord('tok_first'));
    const first = salt();
    let inserted = 0;
    // Eight callers at a time, as concurrent tokenizes: commits keep landing while the worker checkpoints.
    // However long the worker takes to start (tsx compiles it in tests), a checkpoint and a restart come well before this many.
    while (salt() === first && inserted < 1000 * COMMITS_PER_CHECKPOINT) {
      await Promise.all(Array.from({ length: 8 }, () => store.insert(sampleRecord(`tok_${inserted++}`))));
    }
    expect(salt()).not.toBe(first);
    await store.close();
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
