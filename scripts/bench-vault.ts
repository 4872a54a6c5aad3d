/**
 * `npm run bench:vault`: durable tokenizes per second into a SQLite file (WAL, synchronous=FULL:
 * each write is fsynced before its promise resolves), detokenize latency percentiles, and both
 * compared with raw AES-256-GCM encrypts of the same payload measured in the same run.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asciiDigits } from '../src/capture/digits.js';
import type { TokenizeRequest } from '../src/capture/types.js';
import { parseConfig } from '../src/config/index.js';
import { seal } from '../src/vault/aead.js';
import { createVault, Keyring, SqliteTokenStore } from '../src/vault/index.js';

const TOKENIZES = 20_000;
const CONCURRENCY = 64;
const SEQUENTIAL_TOKENIZES = 500;
const DETOKENIZES = 5_000;
const AES_ENCRYPTS = 200_000;
const ACTOR = { type: 'system', id: 'bench' } as const;

const request = (): TokenizeRequest => ({
  captureId: 'bench',
  callSid: 'CAbench',
  actor: ACTOR,
  values: new Map([
    ['card_number', asciiDigits('4111111111111111')],
    ['expiry', asciiDigits('1230')],
    ['cvv', asciiDigits('123')],
  ]),
  kinds: new Map(),
});

const seconds = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;
const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'toneguard-bench-vault-'));
  const config = parseConfig({ dataDir: dir, vault: { cvvTtlMs: 60_000 } });
  const keyring = new Keyring([{ version: 1, key: randomBytes(32), createdAt: null }]);
  const vault = createVault({ config, keyring, store: new SqliteTokenStore(join(dir, 'vault.db')), audit: { record: () => undefined } });
  const tokens: string[] = [];
  try {
    let start = process.hrtime.bigint();
    for (let i = 0; i < SEQUENTIAL_TOKENIZES; i++) tokens.push((await vault.tokenize(request())).token);
    const sequentialRate = SEQUENTIAL_TOKENIZES / seconds(start);

    start = process.hrtime.bigint();
    let issued = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (issued++ < TOKENIZES) tokens.push((await vault.tokenize(request())).token);
      }),
    );
    const concurrentRate = TOKENIZES / seconds(start);

    const latencies: number[] = [];
    for (let i = 0; i < DETOKENIZES; i++) {
      const token = tokens[Math.floor(Math.random() * tokens.length)];
      const t0 = process.hrtime.bigint();
      await vault.detokenize(token, { actor: ACTOR });
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    latencies.sort((a, b) => a - b);

    const key = randomBytes(32);
    const payload = Buffer.from('card_number=4111111111111111;expiry=1230;');
    start = process.hrtime.bigint();
    for (let i = 0; i < AES_ENCRYPTS; i++) seal(key, payload, 'tok_bench');
    const aesRate = AES_ENCRYPTS / seconds(start);

    const result = {
      durableTokenizesPerSecond: Math.round(concurrentRate),
      concurrency: CONCURRENCY,
      sequentialDurableTokenizesPerSecond: Math.round(sequentialRate),
      detokenizeP50Ms: Number(percentile(latencies, 50).toFixed(3)),
      detokenizeP99Ms: Number(percentile(latencies, 99).toFixed(3)),
      aesGcmEncryptsPerSecond: Math.round(aesRate),
      tokenizeToAesRatio: Number((concurrentRate / aesRate).toFixed(4)),
      durability: 'SQLite WAL, synchronous=FULL, group commit',
    };
    process.stdout.write(
      [
        `durable tokenizes/s: ${result.durableTokenizesPerSecond} (${CONCURRENCY} in flight; one at a time: ${result.sequentialDurableTokenizesPerSecond})`,
        `detokenize p50: ${result.detokenizeP50Ms} ms, p99: ${result.detokenizeP99Ms} ms`,
        `raw AES-256-GCM encrypts/s: ${result.aesGcmEncryptsPerSecond}; tokenize/AES ratio: ${result.tokenizeToAesRatio} (goal: ≥ 5000 tokenizes/s, p99 < 2 ms)`,
        JSON.stringify(result),
        '',
      ].join('\n'),
    );
  } finally {
    await vault.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
