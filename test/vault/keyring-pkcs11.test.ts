import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as Pkcs11Js from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryAuditSink } from '../../src/audit/types.js';
import { parseConfig } from '../../src/config/index.js';
import { ToneguardError } from '../../src/errors.js';
import { devKeyringPath, loadKeyring, openVault, Pkcs11Keks, pkcs11Settings, type OpenedVault } from '../../src/vault/index.js';
import { runCli } from '../helpers/cli.js';
import { codeOf, cardRequest, PROCESSOR, tempDir, VISA, MASTERCARD } from './helpers.js';
import { skipWithoutSoftHsm, softHsm, USER_PIN, type SoftHsm } from './softhsm.js';

const lines = (stdout: string) => stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe.skipIf(skipWithoutSoftHsm)('KEKs in a PKCS#11 token (slow, real SoftHSM2)', () => {
  let hsm: SoftHsm;
  const label = 'toneguard-kek-test';

  const config = (dataDir: string) =>
    parseConfig({ dataDir, vault: { kek: { provider: 'pkcs11', pkcs11: { module: hsm.module, tokenLabel: label, pin: USER_PIN } } } });

  beforeAll(() => {
    hsm = softHsm();
    hsm.initToken(label);
  });

  it('keys generate makes an AES-256 KEK inside the token that is sensitive and cannot be extracted', () => {
    const dataDir = tempDir();
    const env = { TONEGUARD_DATA_DIR: dataDir, ...hsm.env(label) };
    const generated = runCli(['keys', 'generate'], { env });
    expect(generated.stderr).toContain('keys.generate');
    expect(generated.status).toBe(0);
    expect(lines(generated.stdout)).toEqual([{ version: 1, label: 'toneguard-kek:v1', source: 'pkcs11' }]);
    const again = Pkcs11Keks.open(pkcs11Settings(config(dataDir)));
    try {
      expect(codeOf(() => again.generate(1))).toBe('keys_version_exists');
    } finally {
      again.close();
    }

    // Look at the object with the raw binding, as any other PKCS#11 application would.
    const binding = createRequire(import.meta.url)('pkcs11js') as typeof Pkcs11Js;
    const pkcs11 = new binding.PKCS11();
    pkcs11.load(hsm.module);
    pkcs11.C_Initialize();
    try {
      const slot = pkcs11.C_GetSlotList(true).find((s) => pkcs11.C_GetTokenInfo(s).label.trim() === label) as Buffer;
      const session = pkcs11.C_OpenSession(slot, binding.CKF_SERIAL_SESSION);
      pkcs11.C_Login(session, binding.CKU_USER, USER_PIN);
      pkcs11.C_FindObjectsInit(session, [{ type: binding.CKA_LABEL, value: 'toneguard-kek:v1' }]);
      const handles = pkcs11.C_FindObjects(session, 10);
      pkcs11.C_FindObjectsFinal(session);
      expect(handles).toHaveLength(1);
      const attrs = pkcs11.C_GetAttributeValue(session, handles[0], [
        { type: binding.CKA_KEY_TYPE },
        { type: binding.CKA_VALUE_LEN },
        { type: binding.CKA_EXTRACTABLE },
        { type: binding.CKA_SENSITIVE },
        { type: binding.CKA_NEVER_EXTRACTABLE },
        { type: binding.CKA_TOKEN },
      ]);
      const [keyType, valueLen, extractable, sensitive, neverExtractable, onToken] = attrs.map((a) => a.value);
      expect(Number(keyType.readBigUInt64LE())).toBe(binding.CKK_AES);
      expect(Number(valueLen.readBigUInt64LE())).toBe(32);
      expect([extractable[0], sensitive[0], neverExtractable[0], onToken[0]]).toEqual([0, 1, 1, 1]);
      let refused: Pkcs11Js.Pkcs11Error | undefined;
      try {
        pkcs11.C_GetAttributeValue(session, handles[0], [{ type: binding.CKA_VALUE }]);
      } catch (err) {
        refused = err as Pkcs11Js.Pkcs11Error;
      }
      expect(refused?.code).toBe(binding.CKR_ATTRIBUTE_SENSITIVE);
      pkcs11.C_CloseSession(session);
    } finally {
      pkcs11.C_Finalize();
      pkcs11.close();
    }
  });

  describe('with a vault over the token', () => {
    let dataDir: string;
    let opened: OpenedVault;
    const tokens: string[] = [];

    beforeAll(async () => {
      dataDir = tempDir();
      opened = openVault(config(dataDir), new MemoryAuditSink());
      await opened.rewrap;
      for (const pan of [VISA, MASTERCARD]) tokens.push((await opened.vault.tokenize(cardRequest({ card_number: pan, expiry: '1230' }))).token);
    });

    afterAll(async () => {
      await opened.vault.close();
    });

    it('tokenizes and detokenizes with data keys wrapped inside the token, bound to their record', async () => {
      expect(opened.warning).toBeNull();
      const record = await opened.vault.detokenize(tokens[0], { actor: PROCESSOR, processor: PROCESSOR.id });
      expect(record.fields.card_number).toBe(VISA);
      expect(record.info.keyVersion).toBe(1);

      const { key, wrapped } = opened.keyring.newDataKey('record:tok_a');
      expect(opened.keyring.unwrapDataKey(wrapped, 'record:tok_a').equals(key)).toBe(true);
      expect(codeOf(() => opened.keyring.unwrapDataKey(wrapped, 'record:tok_b'))).toBe('decrypt_failed');
      const corrupt = Buffer.from(wrapped.wrapped, 'base64url');
      corrupt[corrupt.length - 1] ^= 1;
      expect(codeOf(() => opened.keyring.unwrapDataKey({ ...wrapped, wrapped: corrupt.toString('base64url') }, 'record:tok_a'))).toBe('decrypt_failed');
      expect(codeOf(() => opened.keyring.unwrapDataKey({ ...wrapped, wrapped: 'AAAA' }, 'record:tok_a'))).toBe('decrypt_failed');
    });

    it('keys rotate creates v2 in the token, re-wraps, and every record still decrypts; keys list shows both', async () => {
      const env = { TONEGUARD_DATA_DIR: dataDir, ...hsm.env(label) };
      const rotated = runCli(['keys', 'rotate', '--batch-size', '1'], { env });
      expect(rotated.stderr).toContain('keys.rotate');
      expect(lines(rotated.stdout)).toEqual([{ addedVersion: 2, toVersion: 2, rewrapped: 2, failed: 0 }]);
      const listed = lines(runCli(['keys', 'list'], { env }).stdout);
      expect(listed.map((l) => [l.version, l.current, l.records, l.source])).toEqual([
        [1, false, 0, 'pkcs11'],
        [2, true, 2, 'pkcs11'],
      ]);

      // The vault opened before the rotation reads the re-wrapped keys (it loads v2 on the first miss).
      for (const [i, pan] of [VISA, MASTERCARD].entries()) {
        const record = await opened.vault.detokenize(tokens[i], { actor: PROCESSOR, processor: PROCESSOR.id });
        expect([record.fields.card_number, record.info.keyVersion]).toEqual([pan, 2]);
      }
      expect(opened.keyring.currentVersion).toBe(2);
      const { token } = await opened.vault.tokenize(cardRequest({ card_number: VISA, expiry: '1230' }));
      expect((await opened.vault.info(token))?.keyVersion).toBe(2);
    });

    it('keeps nothing of a KEK in the data directory', () => {
      const files = filesUnder(dataDir);
      expect(files.some((f) => f === devKeyringPath(dataDir))).toBe(false);
      // The vault database, the audit trail and the development audit and signing keys: no keyring, no KEK file.
      for (const file of files) expect(file.slice(dataDir.length + 1)).toMatch(/^(vault\.db(-wal|-shm)?|audit\/.+|keys\/(audit-hmac\.key|service-signing\.jwk))$/);
      for (const file of files) expect(readFileSync(file).includes(Buffer.from('toneguard-kek'))).toBe(false);
    });

    it('measures a tokenize through SoftHSM2 (reported, not asserted)', async () => {
      const rounds = 50;
      const started = process.hrtime.bigint();
      for (let i = 0; i < rounds; i++) await opened.vault.tokenize(cardRequest({ card_number: VISA, expiry: '1230' }));
      const perTokenizeMs = Number(process.hrtime.bigint() - started) / 1e6 / rounds;
      console.info(`tokenize through SoftHSM2: ${perTokenizeMs.toFixed(2)} ms each over ${rounds}`);
      expect(perTokenizeMs).toBeGreaterThan(0);
    });
  });

  it('refuses a wrong PIN or an unknown token with a clear error, never echoing the PIN', () => {
    const dataDir = tempDir();
    const wrongPin = parseConfig({ dataDir, vault: { kek: { provider: 'pkcs11', pkcs11: { module: hsm.module, tokenLabel: label, pin: '999999' } } } });
    let err: ToneguardError | undefined;
    try {
      loadKeyring(wrongPin, { dataDir, profile: 'production' });
    } catch (e) {
      err = e as ToneguardError;
    }
    expect(err?.code).toBe('hsm_unavailable');
    expect(err?.message).toMatch(/CKR_PIN_INCORRECT/);
    expect(err?.message).not.toContain('999999');
    const unknown = parseConfig({ dataDir, vault: { kek: { provider: 'pkcs11', pkcs11: { module: hsm.module, tokenLabel: 'no-such-token', pin: USER_PIN } } } });
    expect(codeOf(() => loadKeyring(unknown, { dataDir, profile: 'production' }))).toBe('config_invalid');
  });
});
