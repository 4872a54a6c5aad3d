import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { detokenizeVia, enrollPuller } from '../helpers/detokenize.js';
import { readAuditRecords, startTestServer, type TestServer } from '../helpers/server.js';
import { tempDir } from './helpers.js';

const PUBLIC_URL = 'https://toneguard.test';
const CARDS = ['4111111111111111', '5555555555554444', '378282246310005', '6011111111111117'];
const KEKS = [`1:${randomBytes(32).toString('base64')}`, `2:${randomBytes(32).toString('base64')}`];
const root = resolve(import.meta.dirname, '../..');

/** The CLI as a child process that does not block this event loop, so tokenizes keep running beside it. */
async function cli(args: string[], env: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, ['--import', 'tsx', resolve(root, 'src/cli.ts'), ...args], { cwd: root, env: { ...process.env, ...env }, timeout: 120_000 });
}

const servers: TestServer[] = [];
afterAll(async () => {
  for (const server of servers) await server.close();
});

describe('the restore drill (slow, real service)', () => {
  it('backs up a running vault while tokenizes run, restores into a fresh directory, and every backed-up token detokenizes to its card', async () => {
    const source = await startTestServer({ vault: { keks: KEKS } });
    servers.push(source);
    const backupKey = randomBytes(32).toString('base64');
    const out = resolve(tempDir(), 'drill.tgbak');
    const cards = new Map<string, string>();
    const tokenize = async (i: number) => {
      const pan = CARDS[i % CARDS.length];
      const info = await source.context.vault.tokenizeValues({ kind: 'card', values: { card_number: pan, expiry: '1239', cvv: '123' }, actor: { type: 'system', id: 'drill' }, reference: `r${i}`, readers: ['puller'] });
      cards.set(info.token, pan);
    };
    for (let i = 0; i < 40; i++) await tokenize(i);
    const before = new Set(cards.keys());

    let writing = true;
    let n = 40;
    const writer = (async () => {
      // Two at a time with a short pause: writes overlap the whole backup without piling up thousands of tokens.
      while (writing) {
        await Promise.all([tokenize(n++), tokenize(n++)]);
        await sleep(40);
      }
    })();
    const backup = await cli(['vault', 'backup', '--out', out], { TONEGUARD_DATA_DIR: source.dataDir, TONEGUARD_BACKUP_KEY: backupKey }).finally(() => (writing = false));
    await writer;
    expect(cards.size).toBeGreaterThan(before.size);
    const manifest = (JSON.parse(backup.stdout.trim().split('\n').at(-1)!) as { manifest: { counts: { records: number }; keyVersions: number[] } }).manifest;
    expect(manifest.keyVersions).toEqual([2]);
    expect(manifest.counts.records).toBeGreaterThanOrEqual(before.size);

    const freshDir = tempDir();
    const restore = await cli(['vault', 'restore', '--in', out], { TONEGUARD_DATA_DIR: freshDir, TONEGUARD_BACKUP_KEY: backupKey });
    expect(restore.stderr).toContain('audit: vault.restored recorded in the audit trail');
    const puller = await enrollPuller(freshDir);
    const restored = await startTestServer({ dataDir: freshDir, vault: { keks: KEKS }, audit: { rules: { detokenizePerClientPerMinute: 100_000 } } });
    servers.push(restored);

    let found = 0;
    for (const [token, pan] of cards) {
      const answer = await detokenizeVia(restored.url, PUBLIC_URL, puller, token);
      if (answer.status === 200) {
        found++;
        expect(answer.body.fields?.card_number === pan, 'a restored token opens to its own card').toBe(true);
        expect(answer.body).not.toHaveProperty('cvv');
      } else {
        expect(answer.body.error?.code).toBe('token_not_found');
        expect(before.has(token), 'a token acknowledged before the backup began is missing').toBe(false);
      }
    }
    expect(found).toBe(manifest.counts.records);

    await expect.poll(() => readAuditRecords(source.dataDir).find((r) => r.action === 'vault.backup'), { timeout: 5000 }).toMatchObject({
      outcome: 'success',
      actor: { type: 'operator' },
      details: { records: manifest.counts.records, spooledAt: expect.any(String) },
    });
    expect(readAuditRecords(freshDir).find((r) => r.action === 'vault.restored')).toMatchObject({ outcome: 'success', details: { records: manifest.counts.records } });
  });
});
