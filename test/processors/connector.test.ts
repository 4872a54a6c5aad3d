import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import request from 'supertest';
import twilio from 'twilio';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/audit/logger.js';
import { MemoryAuditSink } from '../../src/audit/types.js';
import { Metrics } from '../../src/audit/metrics.js';
import { configSchema, type ProcessorConfig } from '../../src/config/index.js';
import { errorHandler } from '../../src/http/errors.js';
import { createHandoffTokenizer } from '../../src/processors/handoff.js';
import { CONNECTOR_PATH, connectorRouter } from '../../src/telephony/twilio/connector.js';
import { ConnectorStore } from '../../src/telephony/twilio/connector-store.js';
import { assertNoCardData } from './no-card-data.js';
import { serviceSigner } from './keys.js';
import { testVault } from './vault.js';

const PUBLIC_URL = 'https://toneguard.test';
const AUTH_TOKEN = 'test-auth-token-0123456789abcdef';
const USER = 'twilio-connector';
const PASS = 'connector-password-0123';
const PAN = '4111111111111111';
const CVV = '123';
const EXPIRY_YEAR = String((new Date().getUTCFullYear() + 3) % 100).padStart(2, '0');

/** Twilio's documented sample bodies (card charge, card tokenize, ACH). */
const chargeBody = (transactionId: string) => ({
  method: 'charge',
  transaction_id: transactionId,
  cardnumber: PAN,
  cvv: CVV,
  expiry_month: '08',
  expiry_year: EXPIRY_YEAR,
  description: 'pizza',
  amount: '10.0',
  currency_code: 'USD',
  postal_code: '94111',
  parameters: { order: '1234' },
});
const tokenizeBody = (transactionId: string) => ({
  method: 'tokenize',
  transaction_id: transactionId,
  cardnumber: '5555555555554444',
  cvv: '321',
  expiry_month: '12',
  expiry_year: `20${EXPIRY_YEAR}`,
  postal_code: '94111',
});
const achBody = (transactionId: string) => ({
  method: 'charge',
  transaction_id: transactionId,
  bankaccountnumber: '000123456789',
  routingnumber: '011000015',
  amount: '25.00',
  currency_code: 'USD',
});

const logLines: string[] = [];
const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void logLines.push(line) } });
const stores: ConnectorStore[] = [];
/** The `vault` processor connector captures are bound to. */
const PULLER: ProcessorConfig = { name: 'acme', type: 'vault', timeoutMs: 5000, maxAttempts: 4 };

async function setup(dataDir = mkdtempSync(join(tmpdir(), 'toneguard-connector-')), vault = testVault()) {
  const { signer } = serviceSigner();
  const store = new ConnectorStore(join(dataDir, 'connector.db'));
  stores.push(store);
  const audit = new MemoryAuditSink();
  const app = express();
  app.use(
    connectorRouter({
      tokenizer: createHandoffTokenizer({ vault, processors: [PULLER], signer, issuer: PUBLIC_URL, dataDir, logger }),
      store,
      username: USER,
      password: PASS,
      allowedBrands: configSchema.parse({}).capture.allowedBrands,
      publicUrl: PUBLIC_URL,
      authToken: AUTH_TOKEN,
      validateSignatures: true,
      audit,
      logger,
      metrics: new Metrics(),
      failedLoginsPerMinute: 10,
      bodyLimitBytes: 16_384,
    }),
  );
  app.use(errorHandler(logger));
  return { app, vault, audit, dataDir };
}

afterAll(() => {
  for (const store of stores) store.close();
  assertNoCardData(logLines, [PAN, CVV, '000123456789']);
});

describe('POST /connectors/twilio-pay (Generic Pay Connector)', () => {
  it('tokenizes a charge into the vault and answers a charge_id', async () => {
    const { app, vault, audit } = await setup();
    const res = await request(app).post(CONNECTOR_PATH).auth(USER, PASS).send(chargeBody('PK0001'));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ charge_id: expect.stringMatching(/^tok_/), error_code: null, error_message: null });
    const record = await vault.detokenize(res.body.charge_id, { actor: { type: 'system', id: 't' }, processor: PULLER.name, includeCvv: true });
    expect(record.fields.card_number === PAN).toBe(true);
    expect(record.fields.expiry).toBe(`08${EXPIRY_YEAR}`);
    expect(record.cvv === CVV).toBe(true);
    expect(audit.events.at(-1)).toMatchObject({ action: 'connector.tokenize', outcome: 'success', details: { amount: '10.0', currency: 'USD' } });
    expect(JSON.stringify(audit.events)).not.toContain(PAN);
  });

  it('answers a tokenize with a token_id, and ACH fields as a bank record', async () => {
    const { app, vault } = await setup();
    const tokenized = await request(app).post(CONNECTOR_PATH).auth(USER, PASS).send(tokenizeBody('PK0002'));
    expect(tokenized.body).toEqual({ token_id: expect.any(String), error_code: null, error_message: null });
    const ach = await request(app).post(CONNECTOR_PATH).auth(USER, PASS).send(achBody('PK0003'));
    expect(ach.body.error_code).toBeNull();
    expect((await vault.info(ach.body.charge_id))?.kind).toBe('bank');
  });

  it('answers retries of a transaction with the original result, even after a restart', async () => {
    const first = await setup();
    const answers = await Promise.all([1, 2, 3].map(() => request(first.app).post(CONNECTOR_PATH).auth(USER, PASS).send(chargeBody('PK0004'))));
    expect(new Set(answers.map((a) => a.body.charge_id)).size).toBe(1);
    expect(first.vault.tokenized).toBe(1);
    const restarted = await setup(first.dataDir, first.vault);
    const retried = await request(restarted.app).post(CONNECTOR_PATH).auth(USER, PASS).send(chargeBody('PK0004'));
    expect(retried.body).toEqual(answers[0].body);
    expect(first.vault.tokenized).toBe(1);
  });

  it.each([
    ['no credentials', undefined],
    ['a wrong password', 'wrong-password'],
  ])('refuses %s with 401 and never echoes a card field', async (_label, password) => {
    const { app, vault } = await setup();
    const req = request(app).post(CONNECTOR_PATH);
    if (password) req.auth(USER, password);
    const res = await req.send(chargeBody('PK0005'));
    expect(res.status).toBe(401);
    expect(res.body.error_code).toBe('unauthorized');
    expect(res.text).not.toContain(PAN);
    expect(vault.tokenized).toBe(0);
  });

  it('refuses a bad Twilio signature but accepts a good one', async () => {
    const { app } = await setup();
    const body = JSON.stringify(chargeBody('PK0006'));
    const bad = await request(app).post(CONNECTOR_PATH).auth(USER, PASS).set('content-type', 'application/json').set('x-twilio-signature', 'AAAA').send(body);
    expect(bad.status).toBe(403);
    expect(bad.body.error_code).toBe('invalid_signature');
    const url = `${PUBLIC_URL}${CONNECTOR_PATH}?bodySHA256=${(await import('node:crypto')).createHash('sha256').update(body).digest('hex')}`;
    const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, {});
    const good = await request(app)
      .post(`${CONNECTOR_PATH}${url.slice(url.indexOf('?'))}`)
      .auth(USER, PASS)
      .set('content-type', 'application/json')
      .set('x-twilio-signature', signature)
      .send(body);
    expect(good.status).toBe(200);
    expect(good.body.error_code).toBeNull();
  });

  it('gives clear codes for malformed bodies and invalid cards, never the values', async () => {
    const { app } = await setup();
    const notJson = await request(app).post(CONNECTOR_PATH).auth(USER, PASS).set('content-type', 'application/json').send(`{"cardnumber":"${PAN}"`);
    expect(notJson.status).toBe(400);
    expect(notJson.body.error_code).toBe('invalid_request');
    const missing = await request(app).post(CONNECTOR_PATH).auth(USER, PASS).send({ ...chargeBody('PK0007'), method: 'refund', cardnumber: '41111' });
    expect(missing.body).toEqual({ error_code: 'invalid_request', error_message: expect.stringContaining('cardnumber') });
    const luhn = await request(app).post(CONNECTOR_PATH).auth(USER, PASS).send({ ...chargeBody('PK0008'), cardnumber: '4111111111111112' });
    expect(luhn.status).toBe(200);
    expect(luhn.body).toMatchObject({ charge_id: null, error_code: 'invalid_card_number' });
    const expired = await request(app).post(CONNECTOR_PATH).auth(USER, PASS).send({ ...chargeBody('PK0009'), expiry_year: '19' });
    expect(expired.body.error_code).toBe('invalid_expiry');
    for (const res of [notJson, missing, luhn, expired]) assertNoCardData([res.text], [PAN, '4111111111111112', CVV]);
  });
});
