import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/audit/logger.js';
import { MemoryAuditSink } from '../../src/audit/types.js';
import { realClock } from '../../src/capture/clock.js';
import { asciiDigits } from '../../src/capture/digits.js';
import { resolveFieldSpec } from '../../src/capture/fields.js';
import { InlineCaptureSession } from '../../src/capture/session.js';
import type { CaptureView, Keypress, TokenizeRequest } from '../../src/capture/types.js';
import { configSchema, type ProcessorConfig } from '../../src/config/index.js';
import { createHandoffTokenizer } from '../../src/processors/handoff.js';
import type { ServiceSigner } from '../../src/processors/types.js';
import { processorKeyPairs, serviceSigner, type ProcessorKeyPairs } from './keys.js';
import { serveJwks } from './service-jwks.js';
import { testVault } from './vault.js';
import { startTestProcessor, type TestProcessor } from './test-processor.js';
import { assertNoCardData } from './no-card-data.js';

const ISSUER = 'https://toneguard.test';
const PAN = '4111111111111111';
const CVV = '123';
const EXPIRY = `12${String((new Date().getUTCFullYear() + 2) % 100).padStart(2, '0')}`;

let signer: ServiceSigner;
let jwksServer: Awaited<ReturnType<typeof serveJwks>>;
let keys: ProcessorKeyPairs;
let processor: TestProcessor;
const logLines: string[] = [];
const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void logLines.push(line) } });

beforeAll(async () => {
  const service = serviceSigner();
  signer = service.signer;
  jwksServer = await serveJwks(service.jwks);
  keys = await processorKeyPairs('acme');
  processor = await startTestProcessor({ encPrivate: keys.encPrivate, publicJwks: keys.jwks, serviceJwksUrl: jwksServer.url, issuer: ISSUER });
});

afterAll(async () => {
  await processor.close();
  await jwksServer.close();
  assertNoCardData(logLines, [PAN, CVV]);
});

function processorConfig(overrides: Partial<ProcessorConfig> = {}): ProcessorConfig {
  return { name: 'acme', type: 'jwe-push', url: processor.url, jwk: keys.jwks.keys[0], timeoutMs: 300, maxAttempts: 3, ...overrides };
}

function setup(overrides: Partial<ProcessorConfig> = {}) {
  const vault = testVault();
  const dataDir = mkdtempSync(join(tmpdir(), 'toneguard-handoff-'));
  const tokenizer = createHandoffTokenizer({
    vault,
    processors: [processorConfig(overrides)],
    signer,
    issuer: ISSUER,
    dataDir,
    logger,
    backoffMs: () => 1,
  });
  return { vault, dataDir, tokenizer };
}

function cardRequest(captureId: string): TokenizeRequest {
  return {
    captureId,
    callSid: 'CA0001',
    actor: { type: 'agent', id: 'agent-1' },
    values: new Map([
      ['card_number', asciiDigits(PAN)],
      ['expiry', asciiDigits(EXPIRY)],
      ['cvv', asciiDigits(CVV)],
    ]),
    kinds: new Map([
      ['card_number', 'card_number'],
      ['expiry', 'expiry'],
      ['cvv', 'cvv'],
    ]),
  };
}

describe('hand-off to a jwe-push processor', () => {
  it('a capture completed by the capture engine reaches the processor as a JWE and the agent view holds its token', async () => {
    const { vault, tokenizer } = setup();
    const captureConfig = configSchema.parse({}).capture;
    const views: CaptureView[] = [];
    const session = new InlineCaptureSession(
      { callSid: 'CA0001', actor: { type: 'agent', id: 'agent-1' } },
      {
        fields: ['card_number', 'expiry', 'cvv'].map((name) => ({ spec: resolveFieldSpec(name, captureConfig)!, mask: 'tones' as const, requireMatching: false })),
        maxAttempts: 3,
        firstDigitTimeoutMs: 60_000,
        interDigitTimeoutMs: 60_000,
        totalTimeoutMs: 120_000,
      },
      { tokenizer, audit: new MemoryAuditSink(), clock: realClock, logger, onView: (view) => views.push(view) },
    );
    session.start();
    let at = 0;
    for (const key of `${PAN}#${EXPIRY}${CVV}`) session.press(key as Keypress, (at += 200), 'event');
    await expect.poll(() => session.view().state, { timeout: 5000 }).toBe('complete');

    const view = session.view();
    const key = [...processor.accepted.keys()].find((k) => processor.accepted.get(k)!.payload.reference === session.id)!;
    expect(key).toBeDefined();
    const delivery = processor.accepted.get(key)!;
    expect(view.result?.token).toBe(processor.tokenFor(key));
    expect(view.result?.vaultToken).toMatch(/^tok_/);
    expect(view.result?.last4).toBe('1111');
    expect(delivery.payload.vaultToken).toBe(view.result?.vaultToken);
    expect(delivery.payload.fields.card_number === PAN).toBe(true);
    expect(delivery.payload.fields.expiry === EXPIRY).toBe(true);
    expect(delivery.payload.cvv === CVV).toBe(true);
    expect(delivery.jweHeader).toMatchObject({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'acme-enc-1' });
    // The one-time CVV was consumed by the push: nothing left to read.
    const again = await vault.detokenize(view.result!.vaultToken!, { actor: { type: 'system', id: 't' }, processor: 'acme', includeCvv: true });
    expect(again.cvv).toBeUndefined();
    expect(JSON.stringify(views)).not.toContain(PAN);
  });

  it('retries 5xx and timeouts with the same idempotency key, and the processor keeps one record', async () => {
    const { tokenizer } = setup();
    processor.script.push('fail500', 'hang');
    const before = processor.keysSeen.length;
    const result = await tokenizer.tokenize(cardRequest('cap_retry'));
    const keysUsed = processor.keysSeen.slice(before);
    expect(keysUsed).toHaveLength(3);
    expect(new Set(keysUsed).size).toBe(1);
    expect(result.token).toBe(processor.tokenFor(keysUsed[0]));
  });

  it('a re-drive of the same capture reuses its idempotency key and gets the same token', async () => {
    const { tokenizer } = setup();
    const first = await tokenizer.tokenize(cardRequest('cap_same'));
    const second = await tokenizer.tokenize(cardRequest('cap_same'));
    expect(second.token).toBe(first.token);
  });

  it('after the last try it writes a dead letter without card data, and no CVV survives', async () => {
    const { vault, dataDir, tokenizer } = setup({ maxAttempts: 2 });
    processor.script.push('fail500', 'fail500');
    await expect(tokenizer.tokenize(cardRequest('cap_dead'))).rejects.toMatchObject({ code: 'processor_unavailable', status: 502 });
    const file = join(dataDir, 'processors', 'dead-letters.jsonl');
    expect(existsSync(file)).toBe(true);
    const text = readFileSync(file, 'utf8');
    assertNoCardData([text], [PAN, CVV, EXPIRY]);
    const letter = JSON.parse(text.trim());
    expect(letter).toMatchObject({ processor: 'acme', reference: 'cap_dead', attempts: 2, error: 'http_500' });
    const record = await vault.detokenize(letter.vaultToken, { actor: { type: 'system', id: 't' }, processor: 'acme', includeCvv: true });
    expect(record.cvv).toBeUndefined();
  });

  it('writes a dead letter when the processor key cannot be fetched', async () => {
    const { dataDir, tokenizer } = setup({ jwk: undefined, jwksUrl: `${processor.url.replace('/card-data', '')}/missing.json`, kid: 'acme-enc-1' });
    await expect(tokenizer.tokenize(cardRequest('cap_nokey'))).rejects.toMatchObject({ code: 'processor_unavailable' });
    expect(readFileSync(join(dataDir, 'processors', 'dead-letters.jsonl'), 'utf8')).toContain('"error":"key_unavailable"');
  });

  it('does not retry a 4xx refusal', async () => {
    const { tokenizer } = setup();
    processor.script.push('reject400');
    const before = processor.attempts;
    await expect(tokenizer.tokenize(cardRequest('cap_400'))).rejects.toMatchObject({ code: 'processor_unavailable' });
    expect(processor.attempts - before).toBe(1);
  });

  it('encrypts with ECDH-ES+A256KW to a key fetched from the processor JWKS by kid', async () => {
    const ecKeys = await processorKeyPairs('ecproc', 'ECDH-ES+A256KW');
    const ecProcessor = await startTestProcessor({ encPrivate: ecKeys.encPrivate, publicJwks: ecKeys.jwks, serviceJwksUrl: jwksServer.url, issuer: ISSUER });
    try {
      const vault = testVault();
      const tokenizer = createHandoffTokenizer({
        vault,
        processors: [{ name: 'ecproc', type: 'jwe-push', url: ecProcessor.url, jwksUrl: ecProcessor.jwksUrl, kid: 'ecproc-enc-1', timeoutMs: 1000, maxAttempts: 1 }],
        signer,
        issuer: ISSUER,
        dataDir: mkdtempSync(join(tmpdir(), 'toneguard-handoff-')),
        logger,
      });
      const result = await tokenizer.tokenize(cardRequest('cap_ec'));
      const delivery = [...ecProcessor.accepted.values()][0];
      expect(result.token).toBe(ecProcessor.tokenFor(delivery.idempotencyKey));
      expect(delivery.jweHeader).toMatchObject({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: 'ecproc-enc-1' });
    } finally {
      await ecProcessor.close();
    }
  });

  it('without a push processor the vault token is the result', async () => {
    const vault = testVault();
    const tokenizer = createHandoffTokenizer({ vault, processors: [], signer, issuer: ISSUER, dataDir: tmpdir(), logger });
    const result = await tokenizer.tokenize(cardRequest('cap_plain'));
    expect(result.token).toMatch(/^tok_/);
    expect(result.vaultToken).toBeUndefined();
    expect(tokenizer.processor).toBeNull();
  });
});
