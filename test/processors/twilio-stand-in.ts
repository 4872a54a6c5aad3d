import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';

export interface CallerCard {
  number: string;
  expiryMonth: string;
  expiryYear: string;
  cvv: string;
  postalCode: string;
  cardType: string;
}

export interface StandInOptions {
  authToken: string;
  /** Our public URL (what Twilio signs) and where the service really listens. */
  publicUrl: string;
  serviceUrl: () => string;
  connector: { username: string; password: string };
  card: CallerCard;
  /** How the masked card number is shown: Twilio's docs show both. */
  maskStyle: 'dashed' | 'plain';
  /** Error types to report for a capture, one per attempt, before it succeeds. */
  errors?: Record<string, string[]>;
  /** Captures the caller never finishes: only a partial callback is played. */
  unfinished?: string[];
}

export interface RecordedRequest {
  path: string;
  params: Record<string, string>;
}

export interface TwilioStandIn {
  apiBaseUrl: string;
  requests: RecordedRequest[];
  /** Every callback played back, with the HTTP status our service answered. */
  callbacks: { params: Record<string, string>; status: number }[];
  /** Resolves once every callback queued so far has been delivered. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const ALL_CARD_CAPTURES = ['payment-card-number', 'expiration-date', 'security-code', 'postal-code'];

/**
 * A local stand-in for Twilio's Payments API: records REST requests and plays back the status
 * callbacks Twilio documents (partial and final per capture, errors, the final Result with the
 * token from the Generic Pay Connector, which it calls like Twilio does), signed like Twilio signs.
 */
export async function startTwilioStandIn(options: StandInOptions): Promise<TwilioStandIn> {
  const requests: RecordedRequest[] = [];
  const callbacks: TwilioStandIn['callbacks'] = [];
  const payments = new Map<string, { callSid: string; required: string[]; callback: string; base: Record<string, string> }>();
  const errorsLeft = new Map(Object.entries(options.errors ?? {}).map(([k, v]) => [k, [...v]]));
  let queue: Promise<void> = Promise.resolve();
  let counter = 0;

  // A callback that cannot be delivered (the service shut down mid-test) is recorded, never left as an unhandled rejection.
  const enqueue = (work: () => Promise<void>) => {
    queue = queue.then(work).catch(() => {
      callbacks.push({ params: {}, status: 0 });
    });
  };

  async function deliver(callbackUrl: string, params: Record<string, string>): Promise<void> {
    const signature = twilio.getExpectedTwilioSignature(options.authToken, callbackUrl, params);
    const target = callbackUrl.replace(options.publicUrl, options.serviceUrl());
    const res = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
      body: new URLSearchParams(params).toString(),
    });
    callbacks.push({ params, status: res.status });
  }

  function masked(capture: string, partial: boolean): Record<string, string> {
    const { card } = options;
    switch (capture) {
      case 'payment-card-number': {
        if (partial) return { PaymentCardNumber: 'xxxxxx' };
        const last4 = card.number.slice(-4);
        const hidden = 'x'.repeat(card.number.length - 4);
        const shown = options.maskStyle === 'plain' ? `${hidden}${last4}` : `${hidden.slice(0, 4)}-${hidden.slice(4, 10)}-${hidden.slice(10)}${last4}`;
        return { PaymentCardNumber: shown, PaymentCardType: card.cardType };
      }
      case 'expiration-date':
        return { ExpirationDate: partial ? 'xx' : 'xxxx' };
      case 'security-code':
        return { SecurityCode: partial ? 'x' : 'x'.repeat(card.cvv.length) };
      case 'postal-code':
        return { PaymentCardPostalCode: partial ? 'xx' : 'x'.repeat(card.postalCode.length) };
      default:
        return {};
    }
  }

  async function complete(sid: string): Promise<void> {
    const payment = payments.get(sid)!;
    const { card } = options;
    const answer = await fetch(`${options.serviceUrl()}/connectors/twilio-pay`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${options.connector.username}:${options.connector.password}`).toString('base64')}`,
      },
      body: JSON.stringify({
        method: 'tokenize',
        transaction_id: sid,
        cardnumber: card.number,
        cvv: card.cvv,
        expiry_month: card.expiryMonth,
        expiry_year: card.expiryYear,
        postal_code: card.postalCode,
        parameters: {},
      }),
    }).then((r) => r.json() as Promise<{ token_id: string | null; error_code: string | null }>);
    const result: Record<string, string> = answer.error_code
      ? { Result: 'payment-connector-error', ConnectorError: answer.error_code }
      : { Result: 'success', PaymentToken: answer.token_id ?? '' };
    await deliver(payment.callback, { ...payment.base, ...masked('payment-card-number', false), ...result });
  }

  function onRequest(path: string, params: Record<string, string>): Record<string, unknown> {
    requests.push({ path, params });
    const create = /\/Calls\/([^/]+)\/Payments\.json$/.exec(path);
    if (create) {
      const sid = `PK${String(++counter).padStart(32, '0')}`;
      const required = ALL_CARD_CAPTURES.filter((c) => (c === 'security-code' ? params.SecurityCode !== 'false' : c === 'postal-code' ? params.PostalCode !== 'false' : true));
      const base = { AccountSid: 'AC0', CallSid: create[1], Sid: sid, PaymentConnector: params.PaymentConnector ?? 'Default', PaymentMethod: params.PaymentMethod ?? 'credit-card', TokenType: params.TokenType ?? 'reusable', ChargeAmount: params.ChargeAmount ?? '0' };
      payments.set(sid, { callSid: create[1], required, callback: params.StatusCallback, base });
      enqueue(() => deliver(params.StatusCallback, { ...base, Required: required.join(',') }));
      return { sid, call_sid: create[1], account_sid: 'AC0' };
    }
    const update = /\/Payments\/([^/]+)\.json$/.exec(path);
    const payment = update ? payments.get(update[1]) : undefined;
    if (!update || !payment) return { code: 20404 };
    const sid = update[1];
    if (params.Capture) {
      const capture = params.Capture;
      enqueue(async () => {
        await deliver(payment.callback, { ...payment.base, Capture: capture, PartialResult: 'true', Required: payment.required.join(','), ...masked(capture, true) });
        if (options.unfinished?.includes(capture)) return;
        const error = errorsLeft.get(capture)?.shift();
        if (error) {
          await deliver(payment.callback, { ...payment.base, Capture: capture, PartialResult: 'false', Required: payment.required.join(','), ErrorType: error });
          return;
        }
        payment.required = payment.required.filter((c) => c !== capture);
        await deliver(payment.callback, { ...payment.base, Capture: capture, PartialResult: 'false', Required: payment.required.join(','), ...masked(capture, false) });
      });
    } else if (params.Status === 'complete') {
      enqueue(() => complete(sid));
    } else if (params.Status === 'cancel') {
      enqueue(() => deliver(payment.callback, { ...payment.base, Result: 'caller-interrupted-with-star' }));
    }
    return { sid, call_sid: payment.callSid };
  }

  const server = createServer(async (req: IncomingMessage, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const params = Object.fromEntries(new URLSearchParams(body));
    const answer = onRequest(req.url ?? '', params);
    res.writeHead('code' in answer ? 404 : 201, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    apiBaseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    callbacks,
    idle: async () => {
      let seen: Promise<void>;
      do {
        seen = queue;
        await seen;
      } while (seen !== queue);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
