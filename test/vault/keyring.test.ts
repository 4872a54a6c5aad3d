import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { ToneguardError } from '../../src/errors.js';
import { MemoryAuditSink, SYSTEM_ACTOR } from '../../src/audit/types.js';
import { DEV_WARNING, Keyring, devKeyringPath, formatKek, loadKeyring, openVault, rewrapKeys, MemoryTokenStore } from '../../src/vault/index.js';
import { codeOf, cardRequest, kek, tempDir, testConfig, vaultFixture, VISA, PROCESSOR } from './helpers.js';

describe('Keyring', () => {
  it('wraps and unwraps a data key under the current version', () => {
    const keyring = new Keyring([kek(1), kek(2)]);
    const { key, wrapped } = keyring.newDataKey('record:tok_a');
    expect(wrapped.keyVersion).toBe(2);
    expect(key).toHaveLength(32);
    expect(keyring.unwrapDataKey(wrapped, 'record:tok_a').equals(key)).toBe(true);
  });

  it('binds the associated data: a key wrapped for one record does not open for another', () => {
    const keyring = new Keyring([kek(1)]);
    const { wrapped } = keyring.newDataKey('record:tok_a');
    expect(codeOf(() => keyring.unwrapDataKey(wrapped, 'record:tok_b'))).toBe('decrypt_failed');
  });

  it('names an unknown key version and refuses corrupt bytes, never returning garbage', () => {
    const keyring = new Keyring([kek(1)]);
    const { wrapped } = keyring.newDataKey('x');
    expect(codeOf(() => keyring.unwrapDataKey({ ...wrapped, keyVersion: 9 }, 'x'))).toBe('key_unknown_version');
    const bytes = Buffer.from(wrapped.wrapped, 'base64url');
    for (const at of [0, 13, bytes.length - 1]) {
      const corrupt = Buffer.from(bytes);
      corrupt[at] ^= 0x01;
      expect(codeOf(() => keyring.unwrapDataKey({ ...wrapped, wrapped: corrupt.toString('base64url') }, 'x'))).toBe('decrypt_failed');
    }
    expect(codeOf(() => keyring.unwrapDataKey({ ...wrapped, wrapped: 'AAAA' }, 'x'))).toBe('decrypt_failed');
  });

  it('lists versions without key material and refuses weak or duplicate keys', () => {
    const keyring = new Keyring([kek(2), kek(1)]);
    expect(JSON.stringify(keyring.versions())).not.toMatch(/key/);
    expect(keyring.versions().map((v) => [v.version, v.current])).toEqual([
      [1, false],
      [2, true],
    ]);
    expect(codeOf(() => new Keyring([{ version: 1, key: Buffer.alloc(16), createdAt: null }]))).toBe('config_invalid');
    expect(codeOf(() => new Keyring([kek(1), kek(1)]))).toBe('config_invalid');
    expect(codeOf(() => new Keyring([]))).toBe('config_missing_secret');
  });
});

describe('rotation', () => {
  it('re-wraps every data key in batches while older versions keep decrypting', async () => {
    const old = kek(1);
    const store = new MemoryTokenStore();
    const before = vaultFixture({ store, keyring: new Keyring([old]) });
    const tokens = [];
    for (let i = 0; i < 7; i++) tokens.push((await before.vault.tokenize(cardRequest({ card_number: VISA, expiry: '1230' }))).token);
    await before.vault.tokenize(cardRequest({ ssn: '123456789' }, 'subject-1'));

    const next = kek(2);
    const rotated = new Keyring([old, next]);
    const after = vaultFixture({ store, keyring: rotated });
    // Before the re-wrap, records under version 1 still decrypt with the rotated keyring.
    expect((await after.vault.detokenize(tokens[0], { actor: PROCESSOR, processor: PROCESSOR.id })).fields.card_number).toBe(VISA);

    const result = await rewrapKeys(store, rotated, { batchSize: 3 });
    expect(result).toEqual({ toVersion: 2, rewrapped: 9, failed: 0 });
    expect(await store.countByKeyVersion()).toEqual([{ keyVersion: 2, records: 8, subjectKeys: 1 }]);

    // Version 1 can now be retired: a keyring without it still decrypts everything.
    const retired = vaultFixture({ store, keyring: new Keyring([next]) });
    for (const token of tokens) expect((await retired.vault.detokenize(token, { actor: PROCESSOR, processor: PROCESSOR.id })).fields.expiry).toBe('1230');
  });

  it('runs in the background when the service opens with a newer KEK, and audits it', async () => {
    const dataDir = tempDir();
    const v1 = formatKek(1, kek(1).key);
    const first = openVault(testConfig({ keks: [v1] }, dataDir), new MemoryAuditSink());
    const { token } = await first.vault.tokenize(cardRequest({ card_number: VISA }));
    await first.vault.close();

    const audit = new MemoryAuditSink();
    const second = openVault(testConfig({ keks: [v1, formatKek(2, kek(2).key)] }, dataDir), audit);
    expect(await second.rewrap).toEqual({ toVersion: 2, rewrapped: 1, failed: 0 });
    expect((await second.vault.info(token))?.keyVersion).toBe(2);
    expect(audit.events).toEqual([expect.objectContaining({ action: 'keys.rotate', actor: SYSTEM_ACTOR, details: expect.objectContaining({ rewrapped: 1 }) })]);
    await second.vault.close();
  });

  it('leaves keys it cannot unwrap in place and counts them', async () => {
    const store = new MemoryTokenStore();
    const { vault } = vaultFixture({ store, keyring: new Keyring([kek(1)]) });
    await vault.tokenize(cardRequest({ card_number: VISA }));
    const result = await rewrapKeys(store, new Keyring([kek(5)]), { batchSize: 1 });
    expect(result).toEqual({ toVersion: 5, rewrapped: 0, failed: 1 });
  });
});

describe('loadKeyring', () => {
  it('takes KEKs from vault.keks, newest version current', () => {
    const config = testConfig({ keks: [formatKek(1, kek(1).key), formatKek(3, kek(3).key)] });
    const loaded = loadKeyring(config, { dataDir: config.dataDir, profile: 'production' });
    expect(loaded.keyring.currentVersion).toBe(3);
    expect(loaded.warning).toBeNull();
    expect(existsSync(devKeyringPath(config.dataDir))).toBe(false);
  });

  it('takes KEKs from a KEK file and names the bad line without echoing it', () => {
    const dir = tempDir();
    const file = join(dir, 'keks');
    writeFileSync(file, `# operators' KEKs\n${formatKek(1, kek(1).key)}\n`);
    const config = testConfig({ kekFile: file });
    expect(loadKeyring(config, { dataDir: dir, profile: 'production' }).keyring.currentVersion).toBe(1);
    writeFileSync(file, '1:c2VjcmV0LXRvby1zaG9ydA==\n');
    const err = (() => {
      try {
        loadKeyring(config, { dataDir: dir, profile: 'production' });
      } catch (e) {
        return e as ToneguardError;
      }
    })();
    expect(err?.code).toBe('config_invalid');
    expect(err?.message).toContain('line 1');
    expect(err?.message).not.toContain('c2VjcmV0');
  });

  it('generates a private development keyring once and warns', () => {
    const config = testConfig();
    const first = loadKeyring(config, { dataDir: config.dataDir, profile: 'development' });
    expect(first.warning).toBe(DEV_WARNING);
    expect(first.keyring.hasFingerprintKey).toBe(true);
    const file = devKeyringPath(config.dataDir);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const content = readFileSync(file, 'utf8');
    const again = loadKeyring(config, { dataDir: config.dataDir, profile: 'development' });
    expect(readFileSync(file, 'utf8')).toBe(content);
    const { wrapped } = first.keyring.newDataKey('x');
    expect(again.keyring.unwrapDataKey(wrapped, 'x')).toHaveLength(32);
  });

  it('refuses to start production without a KEK and says what is missing', () => {
    const config = testConfig();
    let err: ToneguardError | undefined;
    try {
      loadKeyring(config, { dataDir: config.dataDir, profile: 'production' });
    } catch (e) {
      err = e as ToneguardError;
    }
    expect(err?.code).toBe('config_missing_secret');
    expect(err?.message).toMatch(/TONEGUARD_KEKS/);
    expect(existsSync(devKeyringPath(config.dataDir))).toBe(false);
  });
});

describe('a keyring that follows its source', () => {
  it('loads a version added elsewhere on the first key it cannot find, and keeps what it had when the source is unreadable', () => {
    const v1 = kek(1);
    const v2 = kek(2);
    let source: typeof v1[] | null = [v1];
    const following = new Keyring([v1], {
      refresh: () => {
        if (!source) throw new ToneguardError('config_invalid', 'unreadable', 500);
        return source;
      },
    });
    expect(following.live).toBe(true);
    // Another process rotated and re-wrapped under v2 before this one polled.
    const { key, wrapped } = new Keyring([v1, v2]).newDataKey('record:tok_a');
    source = [v1, v2];
    expect(following.unwrapDataKey(wrapped, 'record:tok_a').equals(key)).toBe(true);
    expect(following.currentVersion).toBe(2);

    source = null;
    expect(codeOf(() => following.reload())).toBe('config_invalid');
    expect(following.currentVersion).toBe(2);
    expect(codeOf(() => following.unwrapDataKey({ ...wrapped, keyVersion: 3 }, 'record:tok_a'))).toBe('key_unknown_version');
    expect(following.unwrapDataKey(wrapped, 'record:tok_a').equals(key)).toBe(true);
  });

  it('rotates a KEK file by replacing it whole, and a keyring loaded before sees the new version', () => {
    const dir = tempDir();
    const file = join(dir, 'keks');
    writeFileSync(file, formatKek(1, kek(1).key), { mode: 0o600 });
    const config = testConfig({ kekFile: file, kek: { provider: 'file' } }, dir);
    const running = loadKeyring(config, { dataDir: dir, profile: 'production' });
    const operator = loadKeyring(config, { dataDir: dir, profile: 'production' });
    expect(operator.addVersion()).toBe(2);
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(2);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(running.keyring.currentVersion).toBe(1);
    expect(running.keyring.reload()).toEqual([2]);
    expect(running.keyring.currentVersion).toBe(2);
  });

  it('cannot change KEKs given in configuration (env provider)', () => {
    const config = testConfig({ keks: [formatKek(1, kek(1).key)], kek: { provider: 'env' } });
    const loaded = loadKeyring(config, { dataDir: config.dataDir, profile: 'production' });
    expect(loaded.keyring.live).toBe(false);
    expect(codeOf(() => loaded.addVersion())).toBe('keys_not_writable');
    expect(codeOf(() => loadKeyring(testConfig({ kek: { provider: 'env' } }), { dataDir: config.dataDir, profile: 'development' }))).toBe('config_missing_secret');
    expect(codeOf(() => loadKeyring(testConfig({ kek: { provider: 'file' } }), { dataDir: config.dataDir, profile: 'development' }))).toBe('config_missing_secret');
  });

  it('a running vault polls its KEK file, re-wraps under a new version in the background, and audits both', async () => {
    const dataDir = tempDir();
    const file = join(dataDir, 'keks');
    writeFileSync(file, `${formatKek(1, kek(1).key)}\n`, { mode: 0o600 });
    const config = testConfig({ kekFile: file, kek: { provider: 'file', pollMs: 100 } }, dataDir);
    const audit = new MemoryAuditSink();
    const opened = openVault(config, audit);
    const { token } = await opened.vault.tokenize(cardRequest({ card_number: VISA }));
    expect(loadKeyring(config, { dataDir, profile: 'production' }).addVersion()).toBe(2);
    await vi.waitFor(() => expect(opened.keyring.currentVersion).toBe(2), { timeout: 5_000, interval: 20 });
    await opened.rotations.settled();
    expect((await opened.vault.info(token))?.keyVersion).toBe(2);
    expect(audit.events.filter((e) => e.action.startsWith('keys.')).map((e) => [e.action, e.outcome])).toEqual([
      ['keys.reload', 'success'],
      ['keys.rotate', 'success'],
    ]);
    await opened.vault.close();
  });
});

