import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatKek, SqliteTokenStore, vaultPath } from '../../src/vault/index.js';
import { runCli, runCliAsync } from '../helpers/cli.js';
import { readAuditRecords, startTestServer, type TestServer } from '../helpers/server.js';
import { PROCESSOR, tempDir, VISA, MASTERCARD, AMEX } from './helpers.js';
import { skipWithoutSoftHsm, softHsm } from './softhsm.js';

const CARDS = [VISA, MASTERCARD, AMEX, '6011111111111117'];
const RECORDS = 40;
const READERS = 4;

interface Provider {
  name: string;
  skip: boolean;
  /** Prepares the key source in `dataDir`; returns the service's vault settings and the CLI's environment. */
  setup(dataDir: string): { vault: Record<string, unknown>; env: Record<string, string> };
}

const fileProvider: Provider = {
  name: 'a KEK file',
  skip: false,
  setup(dataDir) {
    const kekFile = join(tempDir(), 'keks');
    writeFileSync(kekFile, `${formatKek(1, randomBytes(32))}\n`, { mode: 0o600 });
    return { vault: { kekFile, kek: { provider: 'file', pollMs: 200 } }, env: { TONEGUARD_DATA_DIR: dataDir, TONEGUARD_KEK_PROVIDER: 'file', TONEGUARD_KEK_FILE: kekFile } };
  },
};

const pkcs11Provider: Provider = {
  name: 'a SoftHSM2 token',
  skip: skipWithoutSoftHsm,
  setup(dataDir) {
    const hsm = softHsm();
    const label = 'live-rotation';
    hsm.initToken(label);
    const env: Record<string, string> = { TONEGUARD_DATA_DIR: dataDir, ...hsm.env(label) };
    expect(runCli(['keys', 'generate'], { env }).status).toBe(0);
    return {
      vault: { kek: { provider: 'pkcs11', pollMs: 200, pkcs11: { module: env.TONEGUARD_PKCS11_MODULE, tokenLabel: label, pin: env.TONEGUARD_PKCS11_PIN } } },
      env,
    };
  },
};

describe.each([fileProvider, pkcs11Provider])('live KEK rotation with $name (slow, real service)', (provider) => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it.skipIf(provider.skip)('keys rotate against a running service: not one detokenize fails, new tokens use the new version, old keys are re-wrapped', async () => {
    const dataDir = tempDir();
    const { vault: vaultSettings, env } = provider.setup(dataDir);
    server = await startTestServer({ dataDir, vault: vaultSettings });
    const { vault, keyring } = server.context;
    const expected = new Map<string, string>();
    for (let i = 0; i < RECORDS; i++) {
      const pan = CARDS[i % CARDS.length];
      const info = await vault.tokenizeValues({ kind: 'card', values: { card_number: pan, expiry: '1230' }, actor: PROCESSOR, reference: `ref-${i}`, readers: [PROCESSOR.id] });
      expect(info.keyVersion).toBe(1);
      expected.set(info.token, pan);
    }
    const tokens = [...expected.keys()];

    let rotating = true;
    let during = 0;
    const failures: string[] = [];
    let reads = 0;
    const reader = async (offset: number) => {
      for (let i = offset; rotating; i++) {
        const token = tokens[i % tokens.length];
        try {
          const record = await vault.detokenize(token, { actor: PROCESSOR, processor: PROCESSOR.id });
          if (record.fields.card_number !== expected.get(token)) failures.push('wrong card');
          reads += 1;
        } catch (err) {
          failures.push((err as { code?: string }).code ?? 'error');
        }
        // Let the other readers and the service's own timers in between reads.
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const readers = Array.from({ length: READERS }, (_, i) => reader(i * 7));
    // New cards keep arriving during the rotation: those wrapped under v1 after the CLI's pass are the service's to re-wrap.
    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing) {
        const info = await vault.tokenizeValues({ kind: 'card', values: { card_number: MASTERCARD, expiry: '1230' }, actor: PROCESSOR, reference: `during-${written}`, readers: [PROCESSOR.id] });
        expected.set(info.token, MASTERCARD);
        written += 1;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();

    const rotation = await runCliAsync(['keys', 'rotate', '--batch-size', '5'], { env });
    during = reads;
    console.info(`${provider.name}: ${during} detokenizes and ${written} tokenizes while keys rotate ran, ${failures.length} failed`);
    expect(rotation.stderr).toContain('keys.rotate');
    expect(rotation.status).toBe(0);
    expect(JSON.parse(rotation.stdout.trim())).toMatchObject({ addedVersion: 2, toVersion: 2, failed: 0 });

    // The service picks the new version up by itself, and re-wraps whatever it wrapped under v1 meanwhile.
    await vi.waitFor(() => expect(keyring.currentVersion).toBe(2), { timeout: 10_000, interval: 50 });
    writing = false;
    await writer;
    const fresh = await vault.tokenizeValues({ kind: 'card', values: { card_number: VISA, expiry: '1230' }, actor: PROCESSOR, reference: 'after', readers: [PROCESSOR.id] });
    expect(fresh.keyVersion).toBe(2);
    expected.set(fresh.token, VISA);
    const store = new SqliteTokenStore(vaultPath(server.context.config));
    try {
      await vi.waitFor(async () => expect(await store.countByKeyVersion()).toEqual([{ keyVersion: 2, records: RECORDS + written + 1, subjectKeys: 0 }]), { timeout: 10_000, interval: 100 });
    } finally {
      await store.close();
    }
    rotating = false;
    await Promise.all(readers);

    expect(failures).toEqual([]);
    expect(during).toBeGreaterThan(READERS);
    for (const [token, pan] of expected) expect((await vault.detokenize(token, { actor: PROCESSOR, processor: PROCESSOR.id })).fields.card_number).toBe(pan);
    // The poll that records the reload runs every pollMs; the rotation may have been seen first by a detokenize's miss.
    await vi.waitFor(() => expect(readAuditRecords(dataDir).some((r) => r.action === 'keys.reload')).toBe(true), { timeout: 5_000, interval: 50 });
    await server.close();
    expect(readAuditRecords(dataDir).filter((r) => r.action === 'keys.reload').map((r) => [r.outcome, r.resource?.id])).toEqual([['success', '2']]);
  });
});
