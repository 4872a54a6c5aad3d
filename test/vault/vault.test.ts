import * as crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ToneguardError } from '../../src/errors.js';
import { endOfExpiryMonth, Keyring } from '../../src/vault/index.js';
import { AGENT, AMEX, cardRequest, kek, MASTERCARD, PROCESSOR, VISA, vaultFixture } from './helpers.js';

async function errorOf(promise: Promise<unknown>): Promise<ToneguardError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ToneguardError) return err;
    throw err;
  }
  throw new Error('expected a ToneguardError');
}

describe('tokenize and detokenize', () => {
  it('stores a card encrypted, answers token/brand/last4/expiry and zeroes every buffer it received', async () => {
    const { vault, store } = vaultFixture();
    const request = cardRequest({ card_number: VISA, expiry: '1230', cvv: '123', postal_code: '94105' });
    const result = await vault.tokenize(request);
    expect(result).toEqual({ token: expect.stringMatching(/^tok_/), brand: 'visa', last4: '1111', expiresAt: '2030-12-31T23:59:59.999Z' });
    for (const bytes of request.values.values()) expect(bytes.every((b) => b === 0)).toBe(true);

    const stored = await store.get(result.token);
    expect(JSON.stringify(stored)).not.toContain(VISA);
    expect(stored).toMatchObject({ kind: 'card', bin: '411111', last4: '1111', keyVersion: 1 });

    const record = await vault.detokenize(result.token, { actor: PROCESSOR, processor: PROCESSOR.id, includeCvv: true });
    expect(record.fields).toEqual({ card_number: VISA, expiry: '1230', postal_code: '94105' });
    expect(record.cvv).toBe('123');
    expect(record.info).toMatchObject({ token: result.token, kind: 'card', brand: 'visa', last4: '1111' });
  });

  it('decides the record kind from the fields', async () => {
    const { vault } = vaultFixture();
    const kinds = [];
    const samples: Record<string, string>[] = [{ routing_number: '021000021', account_number: '000123456789' }, { ssn: '123456789' }, { member_id: '42424242' }];
    for (const fields of samples) {
      const { token } = await vault.tokenize(cardRequest(fields));
      kinds.push((await vault.info(token))?.kind);
    }
    expect(kinds).toEqual(['bank', 'identity', 'generic']);
  });

  it('tokenizes string values (Generic Pay Connector) the same way', async () => {
    const { vault } = vaultFixture();
    const info = await vault.tokenizeValues({ kind: 'card', values: { card_number: AMEX, expiry: '0429', cvv: '1234' }, actor: PROCESSOR, reference: 'tx-1', readers: [PROCESSOR.id] });
    expect(info).toMatchObject({ kind: 'card', brand: 'amex', last4: '0005' });
    const record = await vault.detokenize(info.token, { actor: PROCESSOR, processor: PROCESSOR.id, includeCvv: true });
    expect(record).toMatchObject({ fields: { card_number: AMEX, expiry: '0429' }, cvv: '1234' });
  });

  it('refuses bad input with stable codes that never echo the value', async () => {
    const { vault, audit } = vaultFixture();
    const cases: [Record<string, string>, string][] = [
      [{ card_number: '4111111111111112' }, 'invalid_card_number'],
      [{ card_number: VISA, expiry: '1330' }, 'invalid_expiry'],
      [{ card_number: VISA, expiry: '1225' }, 'card_expired'],
      [{ card_number: VISA, cvv: '12' }, 'invalid_cvv'],
      [{ card_number: '4111-1111-1111-1111' }, 'invalid_value'],
      [{}, 'invalid_values'],
    ];
    for (const [fields, code] of cases) {
      const err = await errorOf(vault.tokenize(cardRequest(fields)));
      expect(err.code).toBe(code);
      for (const value of Object.values(fields)) expect(err.message).not.toContain(value);
    }
    const mismatch = await errorOf(vault.tokenizeValues({ kind: 'bank', values: { card_number: VISA }, actor: PROCESSOR, reference: 'r' }));
    expect(mismatch.code).toBe('invalid_values');
    expect(audit.events.filter((e) => e.action === 'vault.tokenize').every((e) => e.outcome === 'failure')).toBe(true);
  });

  it('answers token_not_found for an unknown token', async () => {
    const { vault, audit } = vaultFixture();
    const err = await errorOf(vault.detokenize('tok_AAAAAAAAAAAAAAAAAAAAAAAA', { actor: PROCESSOR, processor: PROCESSOR.id }));
    expect([err.code, err.status]).toEqual(['token_not_found', 404]);
    expect(audit.events.at(-1)).toMatchObject({ action: 'vault.detokenize', outcome: 'failure', details: { code: 'token_not_found' } });
    // A caller that sends a card number where a token belongs does not get it into the audit trail.
    await errorOf(vault.detokenize(VISA, { actor: PROCESSOR, processor: PROCESSOR.id }));
    await vault.delete(VISA, AGENT);
    expect(JSON.stringify(audit.events)).not.toContain(VISA);
  });

  it('binds each ciphertext to its token: swapping ciphertexts between rows fails to decrypt', async () => {
    const { vault, store } = vaultFixture();
    const a = await vault.tokenize(cardRequest({ card_number: VISA, expiry: '1230' }));
    const b = await vault.tokenize(cardRequest({ card_number: MASTERCARD, expiry: '1230' }));
    const rowA = (await store.get(a.token))!;
    const rowB = (await store.get(b.token))!;
    await store.replace({ ...rowA, ciphertext: rowB.ciphertext });
    expect((await errorOf(vault.detokenize(a.token, { actor: PROCESSOR, processor: PROCESSOR.id }))).code).toBe('decrypt_failed');
    // Moving the data key along with the ciphertext does not help either: the key is bound too.
    await store.replace({ ...rowA, ciphertext: rowB.ciphertext, wrappedKey: rowB.wrappedKey });
    expect((await errorOf(vault.detokenize(a.token, { actor: PROCESSOR, processor: PROCESSOR.id }))).code).toBe('decrypt_failed');
    expect((await vault.detokenize(b.token, { actor: PROCESSOR, processor: PROCESSOR.id })).fields.card_number).toBe(MASTERCARD);
  });

  it('reports a corrupt ciphertext or an unknown key version clearly', async () => {
    const { vault, store } = vaultFixture();
    const { token } = await vault.tokenize(cardRequest({ card_number: VISA }));
    const row = (await store.get(token))!;
    const corrupt = Buffer.from(row.ciphertext, 'base64url');
    corrupt[20] ^= 0xff;
    await store.replace({ ...row, ciphertext: corrupt.toString('base64url') });
    expect((await errorOf(vault.detokenize(token, { actor: PROCESSOR, processor: PROCESSOR.id }))).code).toBe('decrypt_failed');
    await store.replace({ ...row, keyVersion: 7 });
    expect((await errorOf(vault.detokenize(token, { actor: PROCESSOR, processor: PROCESSOR.id }))).code).toBe('key_unknown_version');
  });
});

describe('lifetime', () => {
  it('ends a card token with its expiry month and other tokens after the configured TTL', async () => {
    const { vault, clock } = vaultFixture({ vault: { tokenTtlMs: 60_000 } });
    const card = await vault.tokenize(cardRequest({ card_number: VISA, expiry: '0226' }));
    expect(card.expiresAt).toBe(new Date(endOfExpiryMonth(2026, 2)).toISOString());
    expect(card.expiresAt).toBe('2026-02-28T23:59:59.999Z');
    const other = await vault.tokenize(cardRequest({ member_id: '1234' }));
    expect(Date.parse(other.expiresAt!)).toBe(clock.now + 60_000);

    clock.now += 60_000;
    const err = await errorOf(vault.detokenize(other.token, { actor: PROCESSOR, processor: PROCESSOR.id }));
    expect([err.code, err.status]).toEqual(['token_expired', 410]);
    expect(await vault.info(other.token)).toBeUndefined();
    expect((await vault.detokenize(card.token, { actor: PROCESSOR, processor: PROCESSOR.id })).fields.expiry).toBe('0226');

    clock.now = Date.UTC(2026, 2, 1);
    expect(await vault.purgeExpired()).toBe(1);
    expect(await vault.info(card.token)).toBeUndefined();
  });

  it('deletes a token on request, and says when there was nothing to delete', async () => {
    const { vault, audit } = vaultFixture();
    const { token } = await vault.tokenize(cardRequest({ card_number: VISA, cvv: '123' }));
    expect(await vault.delete(token, AGENT)).toBe(true);
    expect(await vault.delete(token, AGENT)).toBe(false);
    expect((await errorOf(vault.detokenize(token, { actor: PROCESSOR, processor: PROCESSOR.id }))).code).toBe('token_not_found');
    expect(audit.events.filter((e) => e.action === 'vault.delete').map((e) => e.outcome)).toEqual(['success', 'failure']);
  });
});

describe('crypto-shredding', () => {
  it('destroys every record of a data subject and their key, leaving others readable', async () => {
    const { vault, store, audit } = vaultFixture();
    const mine = [await vault.tokenize(cardRequest({ ssn: '123456789' }, 'subj-1')), await vault.tokenize(cardRequest({ ssn: '123456780' }, 'subj-1'))];
    const theirs = await vault.tokenize(cardRequest({ ssn: '223456789' }, 'subj-2'));
    const copy = (await store.get(mine[0].token))!;

    expect(await vault.shredSubject('subj-1', AGENT)).toBe(2);
    for (const { token } of mine) expect(await vault.info(token)).toBeUndefined();
    expect(await store.getSubjectKey('subj-1')).toBeUndefined();
    expect((await vault.detokenize(theirs.token, { actor: PROCESSOR, processor: PROCESSOR.id })).fields.ssn).toBe('223456789');
    // A copy of the row that survived elsewhere (a backup) can no longer be opened.
    await store.insert(copy);
    expect((await errorOf(vault.detokenize(copy.token, { actor: PROCESSOR, processor: PROCESSOR.id }))).code).toBe('token_shredded');
    expect(audit.events.find((e) => e.action === 'vault.shred')).toMatchObject({ outcome: 'success', details: { records: 2 } });
  });
});

describe('CVV', () => {
  it('is readable once, then gone', async () => {
    const { vault } = vaultFixture();
    const { token } = await vault.tokenize(cardRequest({ card_number: VISA, cvv: '123' }));
    expect((await vault.detokenize(token, { actor: PROCESSOR, processor: PROCESSOR.id })).cvv).toBeUndefined();
    expect((await vault.detokenize(token, { actor: PROCESSOR, processor: PROCESSOR.id, includeCvv: true })).cvv).toBe('123');
    expect((await vault.detokenize(token, { actor: PROCESSOR, processor: PROCESSOR.id, includeCvv: true })).cvv).toBeUndefined();
  });

  it('expires after vault.cvvTtlMs', async () => {
    const { vault, clock } = vaultFixture({ vault: { cvvTtlMs: 1_000 } });
    const { token } = await vault.tokenize(cardRequest({ card_number: VISA, cvv: '123' }));
    clock.now += 1_000;
    const record = await vault.detokenize(token, { actor: PROCESSOR, processor: PROCESSOR.id, includeCvv: true });
    expect(record.cvv).toBeUndefined();
    expect(record.fields.card_number).toBe(VISA);
  });

  it('is never part of the stored record', async () => {
    const { vault, store } = vaultFixture();
    const { token } = await vault.tokenize(cardRequest({ card_number: VISA, cvv: '987' }));
    await vault.detokenize(token, { actor: PROCESSOR, processor: PROCESSOR.id, includeCvv: true });
    // With the CVV read, the stored record decrypts to the card fields only.
    expect(Object.keys((await vault.detokenize(token, { actor: PROCESSOR, processor: PROCESSOR.id })).fields)).toEqual(['card_number']);
    expect((await store.get(token))?.ciphertext).toBeDefined();
  });
});

describe('format-preserving aliases and convergent lookup', () => {
  it('gives cards a PAN-shaped alias that also finds the record', async () => {
    const { vault } = vaultFixture({ vault: { tokenFormat: 'format-preserving' } });
    const { token } = await vault.tokenize(cardRequest({ card_number: MASTERCARD, expiry: '1230' }));
    const info = await vault.info(token);
    expect(info?.alias).toMatch(/^\d{12}4444$/);
    expect((await vault.detokenize(info!.alias!, { actor: PROCESSOR, processor: PROCESSOR.id })).info.token).toBe(token);
  });

  it('refuses convergent lookup without a fingerprint key', () => {
    expect(() => vaultFixture({ vault: { convergent: true }, keyring: new Keyring([kek(1)]) })).toThrow(expect.objectContaining({ code: 'config_missing_secret' }));
  });

  it('returns the same token for the same card only when convergent lookup is on, via a keyed fingerprint', async () => {
    const off = vaultFixture();
    const a = await off.vault.tokenize(cardRequest({ card_number: VISA, expiry: '1230' }));
    const b = await off.vault.tokenize(cardRequest({ card_number: VISA, expiry: '1230' }));
    expect(a.token).not.toBe(b.token);
    expect((await off.store.get(a.token))?.fingerprint).toBeNull();

    const on = vaultFixture({ vault: { convergent: true } });
    const first = await on.vault.tokenize(cardRequest({ card_number: VISA, expiry: '1230' }));
    const renewed = await on.vault.tokenize(cardRequest({ card_number: VISA, expiry: '0131', cvv: '321' }));
    const other = await on.vault.tokenize(cardRequest({ card_number: MASTERCARD, expiry: '1230' }));
    expect(renewed.token).toBe(first.token);
    expect(other.token).not.toBe(first.token);
    expect(renewed.expiresAt).toBe('2031-01-31T23:59:59.999Z');
    const record = await on.vault.detokenize(first.token, { actor: PROCESSOR, processor: PROCESSOR.id, includeCvv: true });
    expect(record).toMatchObject({ fields: { card_number: VISA, expiry: '0131' }, cvv: '321' });
    const fingerprint = (await on.store.get(first.token))?.fingerprint;
    expect(fingerprint).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const plainHashes = ['sha256', 'sha1', 'md5'].map((alg) => crypto.createHash(alg).update(VISA).digest('base64url'));
    expect(plainHashes).not.toContain(fingerprint);
  });
});

describe('audit', () => {
  it('records who, which token and the outcome of every operation, never a value', async () => {
    const { vault, audit } = vaultFixture();
    const { token } = await vault.tokenize(cardRequest({ card_number: VISA, expiry: '1230', cvv: '123' }));
    await vault.detokenize(token, { actor: PROCESSOR, processor: PROCESSOR.id, includeCvv: true });
    await vault.delete(token, AGENT);
    await vault.shredSubject('nobody', AGENT);
    expect(audit.events.map((e) => [e.action, e.actor.id, e.outcome, e.resource?.id])).toEqual([
      ['vault.tokenize', AGENT.id, 'success', token],
      ['vault.detokenize', PROCESSOR.id, 'success', token],
      ['vault.delete', AGENT.id, 'success', token],
      ['vault.shred', AGENT.id, 'success', 'nobody'],
    ]);
    const text = JSON.stringify(audit.events);
    for (const secret of [VISA, '123456', '1230"']) expect(text).not.toContain(secret);
  });
});

describe('processor bindings', () => {
  const asProcessor = (id: string) => ({ actor: { type: 'processor' as const, id }, processor: id });

  it('answers a processor the record is not bound to as for an unknown token, and leaves the CVV and the record alone', async () => {
    const { vault, audit, clock } = vaultFixture();
    const { token } = await vault.tokenize({ ...cardRequest({ card_number: VISA, expiry: '0126', cvv: '123' }), readers: ['alpha'] });
    const unknown = await errorOf(vault.detokenize('tok_AAAAAAAAAAAAAAAAAAAAAAAA', asProcessor('beta')));
    const refused = await errorOf(vault.detokenize(token, { ...asProcessor('beta'), includeCvv: true }));
    expect([refused.code, refused.status, refused.message]).toEqual([unknown.code, unknown.status, unknown.message]);
    expect(audit.events.at(-1)).toMatchObject({ action: 'vault.detokenize', outcome: 'denied', details: { code: 'processor_not_bound', processor: 'beta' } });

    // Past its expiry, a stranger still hears "unknown", not "expired", and does not delete it.
    clock.now = Date.UTC(2026, 1, 1);
    expect((await errorOf(vault.detokenize(token, asProcessor('beta')))).code).toBe('token_not_found');
    expect(await vault.info(token)).toBeDefined();
    expect((await errorOf(vault.detokenize(token, asProcessor('alpha')))).code).toBe('token_expired');
  });

  it('binds nothing by default: a record tokenized without readers is readable by no processor', async () => {
    const { vault } = vaultFixture();
    const { readers: _none, ...unbound } = cardRequest({ card_number: VISA, expiry: '1230' });
    const { token } = await vault.tokenize(unbound);
    expect((await errorOf(vault.detokenize(token, asProcessor(PROCESSOR.id)))).code).toBe('token_not_found');
  });

  it('with convergent lookup, the same card captured for another processor is readable by both', async () => {
    const { vault, store } = vaultFixture({ vault: { convergent: true } });
    const first = await vault.tokenize({ ...cardRequest({ card_number: VISA, expiry: '1230' }), readers: ['beta'] });
    const second = await vault.tokenize({ ...cardRequest({ card_number: VISA, expiry: '1230' }), readers: ['alpha', 'alpha'] });
    expect(second.token).toBe(first.token);
    expect((await store.get(first.token))?.readers).toEqual(['alpha', 'beta']);
    for (const processor of ['alpha', 'beta']) expect((await vault.detokenize(first.token, asProcessor(processor))).fields.card_number).toBe(VISA);
  });
});
