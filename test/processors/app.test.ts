import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { createLogger } from '../../src/audit/logger.js';
import { Metrics } from '../../src/audit/metrics.js';
import { Alerter } from '../../src/audit/alerts.js';
import { ServiceSigningKey } from '../../src/audit/service-key.js';
import { MemoryAuditSink } from '../../src/audit/types.js';
import { parseConfig } from '../../src/config/index.js';
import { createPaymentsWiring } from '../../src/processors/wiring.js';
import { MemoryCallRegistry } from '../../src/state/calls.js';
import { assertNoCardData } from './no-card-data.js';
import { testVault } from './vault.js';

const logLines: string[] = [];
const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void logLines.push(line) } });
const dataDir = mkdtempSync(join(tmpdir(), 'toneguard-app-'));
const config = parseConfig({
  dataDir,
  publicUrl: 'https://toneguard.test',
  twilio: { accountSid: 'AC00000000000000000000000000000000', authToken: 'test-auth-token-0123456789abcdef' },
  connector: { username: 'twilio', password: 'secret-password-1' },
});
const audit = new MemoryAuditSink();
const metrics = new Metrics();
const serviceKey = ServiceSigningKey.generate();
const wiring = createPaymentsWiring({ config, logger, audit, vault: testVault(), signer: serviceKey });
const { http } = createApp({
  config,
  logger,
  audit,
  metrics,
  calls: new MemoryCallRegistry(),
  ready: () => true,
  onShutdown: () => undefined,
  serviceKey,
  alerter: new Alerter({ logger, metrics, audit }),
  payments: wiring,
});

afterAll(() => {
  wiring.close();
  assertNoCardData(logLines, ['4111111111111111']);
});

describe('the processor routes in the service app', () => {
  it('serves the connector, detokenize and payments status routes with their own auth', async () => {
    const connector = await request(http)
      .post('/connectors/twilio-pay')
      .auth('twilio', 'secret-password-1')
      .send({ method: 'tokenize', transaction_id: 'PK1', cardnumber: '4111111111111111', cvv: '123', expiry_month: '01', expiry_year: String(new Date().getUTCFullYear() + 2) });
    expect(connector.body).toEqual({ token_id: expect.any(String), error_code: null, error_message: null });
    expect((await request(http).post('/v1/detokenize').send({ token: connector.body.token_id })).body.error.code).toBe('client_authentication_required');
    expect((await request(http).post('/twilio/status/payments').type('form').send({ Sid: 'PK1', CallSid: 'CA1' })).body.error.code).toBe('invalid_signature');
    expect((await request(http).post('/twilio/status/elsewhere')).status).toBe(404);
  });
});
