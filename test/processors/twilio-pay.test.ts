import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import fc from 'fast-check';
import request from 'supertest';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/audit/logger.js';
import { MemoryAuditSink } from '../../src/audit/types.js';
import { Metrics } from '../../src/audit/metrics.js';
import { createCaptureService } from '../../src/capture/service.js';
import type { CaptureService, CaptureView } from '../../src/capture/types.js';
import { configSchema } from '../../src/config/index.js';
import { errorHandler } from '../../src/http/errors.js';
import { createPaymentsWiring } from '../../src/processors/wiring.js';
import { PAYMENTS_STATUS_PATH } from '../../src/telephony/twilio/payments-routes.js';
import { brandOf, errorCodeOf, fieldPatch, parsePaymentStatus, readMask } from '../../src/telephony/twilio/payments-status.js';
import { serviceSigner } from './keys.js';
import { assertNoCardData } from './no-card-data.js';
import { testVault } from './vault.js';
import { startTwilioStandIn, type CallerCard, type StandInOptions, type TwilioStandIn } from './twilio-stand-in.js';

const PUBLIC_URL = 'https://toneguard.test';
const AUTH_TOKEN = 'test-auth-token-0123456789abcdef';
const ACCOUNT_SID = 'AC00000000000000000000000000000000';
const CONNECTOR = { username: 'twilio-connector', password: 'connector-password-0123' };
const CARD: CallerCard = {
  number: '4111111111111111',
  expiryMonth: '09',
  expiryYear: String((new Date().getUTCFullYear() + 2) % 100).padStart(2, '0'),
  cvv: '123',
  postalCode: '94111',
  cardType: 'visa',
};

const logLines: string[] = [];
const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void logLines.push(line) } });
const cleanup: (() => Promise<void> | void)[] = [];

interface Harness {
  service: CaptureService;
  views: CaptureView[];
  vault: ReturnType<typeof testVault>;
  standIn: TwilioStandIn;
  http: express.Express;
}

/** The service's processor and Twilio Pay pieces, as the composition root wires them, on a real port against the Twilio stand-in. */
async function harness(options: Partial<StandInOptions> = {}): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'toneguard-twpay-'));
  const vault = testVault();
  const audit = new MemoryAuditSink();
  let server: Server | undefined;
  const standIn = await startTwilioStandIn({
    authToken: AUTH_TOKEN,
    publicUrl: PUBLIC_URL,
    serviceUrl: () => `http://127.0.0.1:${(server!.address() as AddressInfo).port}`,
    connector: CONNECTOR,
    card: CARD,
    maskStyle: 'dashed',
    ...options,
  });
  const config = configSchema.parse({
    dataDir,
    publicUrl: PUBLIC_URL,
    twilio: { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, apiBaseUrl: standIn.apiBaseUrl },
    connector: { ...CONNECTOR, paymentConnector: 'toneguard' },
    processors: [{ name: 'acme', type: 'vault' }],
  });
  const { signer } = serviceSigner();
  const wiring = createPaymentsWiring({ config, logger, audit, metrics: new Metrics(), vault, signer });
  const service = createCaptureService({ config: config.capture, tokenizer: wiring.tokenizer, audit, logger });
  wiring.registerModes(service);
  const views: CaptureView[] = [];
  service.onView((view) => views.push(view));
  const http = express();
  http.use(wiring.router);
  http.use(errorHandler(logger));
  server = createServer(http);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => wiring.close(), () => standIn.close(), () => new Promise<void>((resolve) => server!.close(() => resolve())));
  return { service, views, vault, standIn, http };
}

afterEach(async () => {
  for (const fn of cleanup.splice(0)) await fn();
});

afterAll(() => assertNoCardData(logLines, [CARD.number, CARD.cvv]));

const startCapture = (h: Harness, fields = ['card_number', 'expiry', 'cvv']) =>
  h.service.start({ callSid: 'CA1234', mode: 'twilio-pay', fields: fields.map((name) => ({ name })), actor: { type: 'agent', id: 'agent-1' } });

describe('Twilio Pay mode', () => {
  it.each(['dashed', 'plain'] as const)('drives the Payments API end to end and the agent view ends with our token (%s masks)', async (maskStyle) => {
    const h = await harness({ maskStyle });
    const session = startCapture(h);
    await expect.poll(() => session.view().state, { timeout: 5000 }).toBe('complete');
    await h.standIn.idle();

    const final = session.view();
    expect(final.result).toMatchObject({ token: expect.stringMatching(/^tok_/), brand: 'visa', last4: '1111' });
    const record = await h.vault.detokenize(final.result!.token, { actor: { type: 'system', id: 't' }, processor: 'acme' });
    expect(record.fields.card_number === CARD.number).toBe(true);
    expect(final.fields.map((f) => [f.name, f.state])).toEqual([
      ['card_number', 'complete'],
      ['expiry', 'complete'],
      ['cvv', 'complete'],
    ]);
    // Progress reached the agent as the same views as in-line mode: capturing, partial digit counts, brand.
    const cardViews = h.views.map((v) => v.fields[0]);
    expect(cardViews.some((f) => f.state === 'capturing' && f.digitCount === 6)).toBe(true);
    expect(cardViews.some((f) => f.state === 'complete' && f.digitCount === 16 && f.brand === 'visa' && f.last4 === '1111')).toBe(true);

    const rest = h.standIn.requests;
    expect(rest[0].path).toBe(`/2010-04-01/Accounts/${ACCOUNT_SID}/Calls/CA1234/Payments.json`);
    expect(rest[0].params).toMatchObject({ PaymentConnector: 'toneguard', PaymentMethod: 'credit-card', ChargeAmount: '0', SecurityCode: 'true', PostalCode: 'false' });
    expect(rest.map((r) => r.params.Capture ?? r.params.Status ?? 'create')).toEqual(['create', 'payment-card-number', 'expiration-date', 'security-code', 'complete']);
    expect(rest.every((r) => r.params.StatusCallback === `${PUBLIC_URL}${PAYMENTS_STATUS_PATH}`)).toBe(true);
    expect(new Set(rest.map((r) => r.params.IdempotencyKey)).size).toBe(rest.length);
    expect(h.standIn.callbacks.every((c) => c.status === 204)).toBe(true);
    expect(JSON.stringify(h.views)).not.toContain(CARD.number);
  });

  it('shows a refused entry as invalid with Twilio\'s error, asks again, and completes', async () => {
    const h = await harness({ errors: { 'payment-card-number': ['invalid-card-number'] } });
    const session = startCapture(h);
    await expect.poll(() => session.view().state, { timeout: 5000 }).toBe('complete');
    const invalid = h.views.map((v) => v.fields[0]).find((f) => f.state === 'invalid');
    expect(invalid).toMatchObject({ valid: false, error: 'invalid_card_number', attempts: 1 });
    expect(h.standIn.requests.filter((r) => r.params.Capture === 'payment-card-number')).toHaveLength(2);
  });

  it('fails the capture after too many refused entries and cancels the payment', async () => {
    const h = await harness({ errors: { 'security-code': ['invalid-security-code', 'invalid-security-code', 'invalid-security-code'] } });
    const session = startCapture(h);
    await expect.poll(() => session.view().state, { timeout: 5000 }).toBe('failed');
    await h.standIn.idle();
    expect(session.view().error?.code).toBe('too_many_attempts');
    expect(h.standIn.requests.at(-1)?.params.Status).toBe('cancel');
  });

  it('cancels the Twilio payment when the agent cancels, even while it is being created', async () => {
    const h = await harness();
    const early = startCapture(h, ['card_number', 'expiry']);
    early.cancel('agent_cancelled', { type: 'agent', id: 'agent-1' });
    await expect.poll(() => h.standIn.requests.at(-1)?.params.Status).toBe('cancel');
    expect(h.standIn.requests.map((r) => r.params.Capture ?? r.params.Status ?? 'create')).toEqual(['create', 'cancel']);
    expect(early.view().state).toBe('cancelled');

    const h2 = await harness({ unfinished: ['expiration-date'] });
    const later = h2.service.start({ callSid: 'CA5678', mode: 'twilio-pay', fields: [{ name: 'card_number' }, { name: 'expiry' }], actor: { type: 'agent', id: 'agent-1' } });
    await expect.poll(() => later.view().fields[1]).toMatchObject({ state: 'capturing', digitCount: 2 });
    later.cancel('agent_cancelled', { type: 'agent', id: 'agent-1' });
    await expect.poll(() => h2.standIn.requests.at(-1)?.params.Status).toBe('cancel');
    expect(later.view().state).toBe('cancelled');
  });

  it('refuses an unsupported field before calling Twilio', async () => {
    const h = await harness();
    const session = startCapture(h, ['ssn']);
    await expect.poll(() => session.view().state).toBe('failed');
    expect(h.standIn.requests).toHaveLength(0);
  });

  it('refuses unsigned and badly signed status callbacks', async () => {
    const h = await harness();
    const params = { Sid: 'PK1', CallSid: 'CA1234', Result: 'success', PaymentToken: 'tok_forged' };
    const unsigned = await request(h.http).post(PAYMENTS_STATUS_PATH).type('form').send(params);
    expect(unsigned.status).toBe(403);
    expect(unsigned.body.error.code).toBe('signature_invalid');
    const forged = await request(h.http).post(PAYMENTS_STATUS_PATH).type('form').set('x-twilio-signature', 'bm90LWEtc2lnbmF0dXJl').send(params);
    expect(forged.status).toBe(403);
  });
});

describe('reading Twilio masks leniently', () => {
  it('counts every position and keeps the visible trailing digits, whatever the grouping', () => {
    fc.assert(
      fc.property(fc.integer({ min: 12, max: 19 }), fc.stringMatching(/^\d{4}$/), fc.constantFrom('', '-', ' '), fc.constantFrom('x', 'X', '*'), (length, last4, separator, maskChar) => {
        const hidden = maskChar.repeat(length - 4);
        const grouped = [hidden.slice(0, 4), hidden.slice(4, 10), hidden.slice(10) + last4].filter(Boolean).join(separator);
        expect(readMask(grouped)).toEqual({ digitCount: length, trailingDigits: last4 });
      }),
    );
    expect(readMask('xxxx-xxxxxx-x4001')).toEqual({ digitCount: 15, trailingDigits: '4001' });
    expect(readMask('xxxxxxxxxxx4001')).toEqual({ digitCount: 15, trailingDigits: '4001' });
    expect(readMask('xx/xx').digitCount).toBe(4);
  });

  it('maps card types and error types to our names', () => {
    expect(['visa', 'MasterCard', 'american express', 'diners-club', 'Discover'].map(brandOf)).toEqual(['visa', 'mastercard', 'amex', 'diners', 'discover']);
    expect(['input-timeout', 'invalid-card-number', 'too-many-failed-attempts'].map(errorCodeOf)).toEqual(['timeout', 'invalid_card_number', 'too_many_failed_attempts']);
  });

  it('reads a final callback leniently and refuses one without a payment Sid', () => {
    const parsed = parsePaymentStatus({ Sid: 'PK1', CallSid: 'CA1', Capture: 'payment-card-number', PartialResult: 'false', Required: 'expiration-date, security-code', PaymentCardNumber: 'xxxx-xxxxxx-x4001', PaymentCardType: 'amex', Extra: 'new' });
    if (!parsed.ok) throw new Error(parsed.message);
    const { status } = parsed;
    expect(fieldPatch('card_number', status)).toEqual({ digitCount: 15, brand: 'amex', state: 'complete', valid: true, error: null, last4: '4001' });
    expect(fieldPatch('expiry', status)).toEqual({});
    expect(parsePaymentStatus({ CallSid: 'CA1' })).toEqual({ ok: false, message: 'missing, malformed or too long: Sid' });
  });
});
