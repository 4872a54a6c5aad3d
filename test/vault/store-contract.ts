import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredRecord, TokenStore } from '../../src/vault/index.js';

/** A store to test and how to let go of it afterwards. */
export interface StoreUnderTest {
  store: TokenStore;
  dispose(): Promise<void>;
}

const T0 = Date.UTC(2026, 0, 15);

/** A record as a vault would store it: the values are placeholders, no card data. */
export function sampleRecord(token: string, overrides: Partial<StoredRecord> = {}): StoredRecord {
  return {
    token,
    kind: 'card',
    brand: 'visa',
    bin: '411111',
    last4: '1111',
    alias: null,
    subjectId: null,
    fingerprint: null,
    keyVersion: 1,
    wrappedKey: `wrapped-${token}`,
    ciphertext: `sealed-${token}`,
    readers: ['acme'],
    createdAt: T0,
    expiresAt: T0 + 60_000,
    ...overrides,
  };
}

/** What every `TokenStore` promises (src/vault/store.ts), run against each implementation. */
export function tokenStoreContract(name: string, open: () => Promise<StoreUnderTest>): void {
  describe(`TokenStore contract: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: TokenStore;
    beforeEach(async () => {
      subject = await open();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.dispose();
    });

    it('stores a record and reads it back by token and by alias, readers and times intact', async () => {
      const record = sampleRecord('tok_a', { alias: '4111110000001111', readers: ['acme', 'beta'] });
      await store.insert(record);
      expect(await store.get('tok_a')).toEqual(record);
      expect(await store.get('4111110000001111')).toEqual(record);
      expect(await store.get('tok_missing')).toBeUndefined();
      await store.insert(sampleRecord('tok_unbound', { readers: null }));
      expect((await store.get('tok_unbound'))?.readers).toBeNull();
    });

    it('refuses a taken token or alias with token_conflict', async () => {
      await store.insert(sampleRecord('tok_a', { alias: '4111110000001111' }));
      await expect(store.insert(sampleRecord('tok_a'))).rejects.toMatchObject({ code: 'token_conflict' });
      await expect(store.insert(sampleRecord('tok_b', { alias: '4111110000001111' }))).rejects.toMatchObject({ code: 'token_conflict' });
      expect(await store.get('tok_b')).toBeUndefined();
    });

    it('finds a live record by fingerprint, never an expired one', async () => {
      await store.insert(sampleRecord('tok_a', { fingerprint: 'fp-1', expiresAt: T0 + 1_000 }));
      expect((await store.findByFingerprint('fp-1', T0))?.token).toBe('tok_a');
      expect(await store.findByFingerprint('fp-1', T0 + 1_000)).toBeUndefined();
      expect(await store.findByFingerprint('fp-2', T0)).toBeUndefined();
    });

    it('replaces sealed content, readers and lifetime in place, keeping alias and creation time', async () => {
      await store.insert(sampleRecord('tok_a', { alias: '4111110000001111' }));
      const next = sampleRecord('tok_a', { ciphertext: 'resealed', wrappedKey: 'rewrapped', keyVersion: 2, readers: ['acme', 'beta'], expiresAt: T0 + 120_000, createdAt: T0 + 5 });
      expect(await store.replace(next)).toBe(true);
      expect(await store.get('tok_a')).toEqual({ ...next, alias: '4111110000001111', createdAt: T0 });
      expect(await store.replace(sampleRecord('tok_missing'))).toBe(false);
    });

    it('deletes by token, frees the alias, and deletes or disposes of expired records oldest first', async () => {
      await store.insert(sampleRecord('tok_a', { alias: '4111110000001111' }));
      expect(await store.delete('tok_a')).toBe(true);
      expect(await store.delete('tok_a')).toBe(false);
      await store.insert(sampleRecord('tok_b', { alias: '4111110000001111' }));
      for (const [token, expiresAt] of [['tok_c', T0 + 30], ['tok_d', T0 + 10], ['tok_e', T0 + 20], ['tok_f', T0 + 999_999]] as const) {
        await store.insert(sampleRecord(token, { expiresAt }));
      }
      expect(await store.disposeExpired(T0 + 100, 2)).toEqual(['tok_d', 'tok_e']);
      expect(await store.disposeExpired(T0 + 100, 10)).toEqual(['tok_c']);
      expect(await store.deleteExpired(T0 + 999_999)).toBe(2);
      expect(await store.get('tok_f')).toBeUndefined();
      expect(typeof (await store.flushDeleted())).toBe('boolean');
    });

    it('keeps the first subject key, and shreds a subject with its records at once', async () => {
      const first = { subjectId: 'subj-1', keyVersion: 1, wrappedKey: 'k1', createdAt: T0 };
      expect(await store.ensureSubjectKey(first)).toEqual(first);
      expect(await store.ensureSubjectKey({ ...first, wrappedKey: 'k2', createdAt: T0 + 1 })).toEqual(first);
      expect(await store.getSubjectKey('subj-1')).toEqual(first);
      await store.insert(sampleRecord('tok_a', { subjectId: 'subj-1' }));
      await store.insert(sampleRecord('tok_b', { subjectId: 'subj-1' }));
      await store.insert(sampleRecord('tok_c'));
      expect(await store.shredSubject('subj-1')).toBe(2);
      expect(await store.getSubjectKey('subj-1')).toBeUndefined();
      expect(await store.get('tok_c')).toBeDefined();
    });

    it('lists keys under other KEK versions and re-wraps only rows still holding the old key', async () => {
      await store.ensureSubjectKey({ subjectId: 'subj-1', keyVersion: 1, wrappedKey: 'k1', createdAt: T0 });
      await store.insert(sampleRecord('tok_a'));
      await store.insert(sampleRecord('tok_b', { keyVersion: 2 }));
      const refs = await store.wrappedNotUnder(2, 10);
      expect(refs).toEqual([
        { table: 'subject', id: 'subj-1', keyVersion: 1, wrappedKey: 'k1' },
        { table: 'record', id: 'tok_a', keyVersion: 1, wrappedKey: 'wrapped-tok_a' },
      ]);
      expect(await store.wrappedNotUnder(2, 1)).toHaveLength(1);
      const stale = { ...refs[1]!, wrappedKey: 'someone-else-rewrapped' };
      const applied = await store.updateWrapped([
        { ref: refs[0]!, next: { keyVersion: 2, wrapped: 'k1v2' } },
        { ref: stale, next: { keyVersion: 2, wrapped: 'lost' } },
      ]);
      expect(applied).toBe(1);
      expect(await store.countByKeyVersion()).toEqual([
        { keyVersion: 1, records: 1, subjectKeys: 0 },
        { keyVersion: 2, records: 1, subjectKeys: 1 },
      ]);
    });
  });
}
