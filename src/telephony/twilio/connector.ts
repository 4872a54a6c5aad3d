import { createHash, timingSafeEqual } from 'node:crypto';
import express, { Router, type Request, type Response } from 'express';
import twilio from 'twilio';
import { z } from 'zod';
import type { Logger } from '../../audit/logger.js';
import type { Metrics } from '../../audit/metrics.js';
import type { Actor, AuditSink } from '../../audit/types.js';
import type { CaptureResult } from '../../capture/types.js';
import { validateAccountNumber, validateCardNumber, validateCvv, validateExpiry, validateRoutingNumber } from '../../capture/validators.js';
import type { CardBrand } from '../../config/index.js';
import { isToneguardError } from '../../errors.js';
import { createLoginGuard } from '../../http/login-guard.js';
import type { TokenizeValuesRequest } from '../../vault/types.js';
import type { ConnectorAnswer, ConnectorAnswers } from './connector-store.js';
import { publicUrlFor } from './signature.js';
import { TRANSACTION_ID_RULE, transactionIdSchema } from './transaction-id.js';

export const CONNECTOR_PATH = '/connectors/twilio-pay';
const CONNECTOR_ACTOR_ID = 'twilio-generic-pay-connector';

export interface ConnectorDeps {
  /** Tokenizes (and hands off to a push processor, when one is configured). */
  tokenizer: { tokenizeValues(request: TokenizeValuesRequest): Promise<CaptureResult> };
  store: ConnectorAnswers;
  username: string;
  password: string;
  allowedBrands: readonly CardBrand[];
  publicUrl: string;
  authToken: string;
  validateSignatures: boolean;
  audit: AuditSink;
  logger: Logger;
  metrics: Metrics;
  /** Failed logins per source address per minute before it is refused with 429 (`connector.failedLoginsPerMinutePerIp`). */
  failedLoginsPerMinute: number;
  bodyLimitBytes: number;
  now?: () => number;
}

const digits = (min: number, max: number) => z.string().regex(new RegExp(`^\\d{${min},${max}}$`));
const text = (max: number) => z.union([z.string().max(max), z.number()]).transform(String);
const requestSchema = z.object({
  method: z.enum(['charge', 'tokenize']),
  transaction_id: transactionIdSchema,
  cardnumber: digits(12, 19).optional(),
  cvv: digits(3, 4).optional(),
  expiry_month: digits(1, 2).optional(),
  expiry_year: z.string().regex(/^(\d{2}|\d{4})$/).optional(),
  amount: text(32).optional(),
  currency_code: z.string().max(8).optional(),
  postal_code: z.string().max(16).optional(),
  description: z.string().max(1024).optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  bankaccountnumber: digits(4, 17).optional(),
  routingnumber: digits(9, 9).optional(),
});
type ConnectorRequest = z.infer<typeof requestSchema>;

type Outcome = { ok: true; kind: 'card' | 'bank'; values: Record<string, string> } | { ok: false; code: string; message: string };

/**
 * `POST /connectors/twilio-pay`: the server side of Twilio's Generic Pay Connector. HTTP Basic
 * auth (constant-time), optional Twilio signature, a validated body; the card data goes into the
 * vault and the answer carries our token. Retries with the same `transaction_id` get the
 * original answer from a persisted record that holds no card data.
 */
export function connectorRouter(deps: ConnectorDeps): Router {
  const router = Router();
  const inFlight = new Map<string, Promise<ConnectorAnswer>>();
  const expected = { user: digest(deps.username), pass: digest(deps.password) };
  const logins = createLoginGuard({
    endpoint: 'connector',
    action: 'connector.auth_failed',
    actor: { type: 'telephony', id: CONNECTOR_ACTOR_ID },
    failuresPerMinute: deps.failedLoginsPerMinute,
    audit: deps.audit,
    logger: deps.logger,
    metrics: deps.metrics,
  });

  router.post(CONNECTOR_PATH, express.raw({ type: () => true, limit: deps.bodyLimitBytes }), async (req, res, next) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    try {
      if (!deps.username || !deps.password) return refuse(res, 503, 'connector_not_configured', 'the connector credentials are not configured');
      const source = req.ip ?? req.socket.remoteAddress;
      if (!logins.mayTry(source)) {
        res.set('retry-after', String(logins.retryAfterSeconds()));
        return refuse(res, 429, 'rate_limited', 'too many failed logins from this address; retry later');
      }
      const credentials = basicAuthMatches(req, expected);
      if (credentials !== 'ok') {
        logins.failed(source, credentials);
        res.set('www-authenticate', 'Basic realm="toneguard-connector"');
        return refuse(res, 401, 'unauthorized', 'HTTP Basic credentials are missing or wrong');
      }
      const signature = req.get('x-twilio-signature');
      if (deps.validateSignatures && signature && !twilio.validateRequestWithBody(deps.authToken, signature, publicUrlFor(deps.publicUrl, req.originalUrl), raw.toString('utf8'))) {
        return refuse(res, 403, 'invalid_signature', 'the X-Twilio-Signature header does not match the body');
      }
      const parsed = parseBody(raw);
      if (!parsed.success) return refuse(res, 400, parsed.code, parsed.message);
      const request = parsed.data;
      const stored = await deps.store.get(request.transaction_id);
      if (stored) return void res.status(200).json(stored.answer);
      let pending = inFlight.get(request.transaction_id);
      if (!pending) {
        pending = handle(deps, request).finally(() => inFlight.delete(request.transaction_id));
        inFlight.set(request.transaction_id, pending);
      }
      res.status(200).json(await pending);
    } catch (err) {
      next(err);
    } finally {
      raw.fill(0);
    }
  });
  return router;
}

async function handle(deps: ConnectorDeps, request: ConnectorRequest): Promise<ConnectorAnswer> {
  const idKey = request.method === 'charge' ? 'charge_id' : 'token_id';
  const actor: Actor = { type: 'telephony', id: CONNECTOR_ACTOR_ID };
  const log = deps.logger.child({ transactionId: request.transaction_id, method: request.method });
  const checked = checkValues(request, deps.allowedBrands, (deps.now ?? Date.now)());
  if (!checked.ok) {
    const answer = { [idKey]: null, error_code: checked.code, error_message: checked.message };
    const standing = await deps.store.put(request.transaction_id, request.method, answer);
    deps.audit.record({ action: 'connector.tokenize', actor, outcome: 'failure', details: { transactionId: request.transaction_id, code: checked.code } });
    log.info({ code: checked.code }, 'connector request refused');
    return standing;
  }
  try {
    const result = await deps.tokenizer.tokenizeValues({ kind: checked.kind, values: checked.values, actor, reference: request.transaction_id });
    // Another node may have answered the same transaction meanwhile: the first answer stored is the one every retry gets.
    const answer = await deps.store.put(request.transaction_id, request.method, { [idKey]: result.token, error_code: null, error_message: null });
    deps.audit.record({
      action: 'connector.tokenize',
      actor,
      outcome: 'success',
      resource: { type: 'token', id: result.token },
      details: { transactionId: request.transaction_id, method: request.method, amount: request.amount ?? null, currency: request.currency_code ?? null },
    });
    log.info({ last4: result.last4 ?? null }, 'connector request tokenized');
    return answer;
  } catch (err) {
    // Not persisted: a transient failure (processor down) must let Twilio's retry try again.
    const code = isToneguardError(err) ? err.code : 'internal_error';
    log.warn({ code }, 'connector tokenization failed');
    deps.audit.record({ action: 'connector.tokenize', actor, outcome: 'failure', details: { transactionId: request.transaction_id, code } });
    return { [idKey]: null, error_code: code, error_message: 'the payment data could not be stored; retry later' };
  } finally {
    for (const key of Object.keys(checked.values)) checked.values[key] = '';
  }
}

/** Validates the card or bank fields; errors name fields and rules, never values. */
function checkValues(request: ConnectorRequest, allowedBrands: readonly CardBrand[], nowMs: number): Outcome {
  if (request.cardnumber !== undefined) {
    const card = validateCardNumber(request.cardnumber, allowedBrands);
    if (!card.valid) return { ok: false, code: 'invalid_card_number', message: `cardnumber is not acceptable (${card.error})` };
    if (!request.expiry_month || !request.expiry_year) return { ok: false, code: 'invalid_expiry', message: 'expiry_month and expiry_year are required' };
    const expiry = `${request.expiry_month.padStart(2, '0')}${request.expiry_year.slice(-2)}`;
    const date = validateExpiry(expiry, nowMs);
    if (!date.valid) return { ok: false, code: 'invalid_expiry', message: `the expiry date is not acceptable (${date.error})` };
    if (request.cvv !== undefined) {
      const cvv = validateCvv(request.cvv, card.brand ?? null);
      if (!cvv.valid) return { ok: false, code: 'invalid_security_code', message: `cvv is not acceptable (${cvv.error})` };
    }
    const values: Record<string, string> = { card_number: request.cardnumber, expiry };
    if (request.cvv !== undefined) values.cvv = request.cvv;
    if (request.postal_code) values.postal_code = request.postal_code;
    return { ok: true, kind: 'card', values };
  }
  if (request.bankaccountnumber !== undefined && request.routingnumber !== undefined) {
    if (!validateRoutingNumber(request.routingnumber).valid) return { ok: false, code: 'invalid_routing_number', message: 'routingnumber fails its checksum' };
    const account = validateAccountNumber(request.bankaccountnumber);
    if (!account.valid) return { ok: false, code: 'invalid_account_number', message: `bankaccountnumber is not acceptable (${account.error})` };
    return { ok: true, kind: 'bank', values: { routing_number: request.routingnumber, account_number: request.bankaccountnumber } };
  }
  return { ok: false, code: 'invalid_request', message: 'either cardnumber or bankaccountnumber and routingnumber are required' };
}

/** Parses the JSON body; messages name the offending fields only, never a value. */
function parseBody(raw: Buffer): { success: true; data: ConnectorRequest } | { success: false; code: string; message: string } {
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    return { success: false, code: 'invalid_request', message: 'the body is not JSON' };
  }
  const parsed = requestSchema.safeParse(json);
  if (parsed.success) return { success: true, data: parsed.data };
  const fields = [...new Set(parsed.error.issues.map((issue) => String(issue.path[0] ?? 'body')))];
  if (fields.includes('transaction_id')) return { success: false, code: 'invalid_transaction_id', message: TRANSACTION_ID_RULE };
  return { success: false, code: 'invalid_request', message: `invalid or missing fields: ${fields.join(', ')}` };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Compares digests so that neither length nor content leaks through timing. Says which way it failed, for the audit record. */
function basicAuthMatches(req: Request, expected: { user: Buffer; pass: Buffer }): 'ok' | 'missing_credentials' | 'wrong_credentials' {
  const header = req.get('authorization') ?? '';
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
  if (!match) return 'missing_credentials';
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return 'missing_credentials';
  const userOk = timingSafeEqual(digest(decoded.slice(0, colon)), expected.user);
  const passOk = timingSafeEqual(digest(decoded.slice(colon + 1)), expected.pass);
  return userOk && passOk ? 'ok' : 'wrong_credentials';
}

function refuse(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ error_code: code, error_message: message });
}
