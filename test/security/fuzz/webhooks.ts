import fc from 'fast-check';
import twilio from 'twilio';
import type { TwilioTarget } from '../../helpers/twilio.js';
import { readAnswer, type Answer } from './answers.js';
import { hostileText, unknownSid } from './values.js';

export const WEBHOOK_PATHS = ['/twilio/voice/inbound', '/twilio/voice/agent', '/twilio/status/call', '/twilio/status/stream', '/twilio/status/payments'] as const;

/** How the fields travel: as Twilio sends them, or in a shape the form parser skips. */
type Encoding = 'form' | 'json' | 'wrong-type' | 'empty';

export interface WebhookRequest {
  path: string;
  query: string;
  encoding: Encoding;
  fields: Array<[string, string]>;
}

const TWILIO_FIELDS = ['CallSid', 'AccountSid', 'From', 'To', 'CallStatus', 'Direction', 'StreamEvent', 'StreamSid', 'Sid', 'Capture', 'PartialResult', 'Required', 'Result', 'PaymentToken', 'PaymentCardNumber', 'ErrorType', 'Digits'];
const STATUS_VALUES = ['ringing', 'in-progress', 'completed', 'busy', 'failed', 'canceled', 'stream-started', 'stream-stopped', 'stream-error', 'payment-card-number', 'true', 'success'];

/** Field names stay within `[A-Za-z0-9]`, so the service's form parser and ours agree on what was signed. */
const fieldName = fc.oneof(fc.constantFrom(...TWILIO_FIELDS), fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,20}$/));
// Signed status callbacks are trusted: their CallSids never name a live call, or a fuzz run could rightly hang it up.
const fieldValue = fc.oneof(unknownSid('CA'), unknownSid('PK'), fc.constantFrom(...STATUS_VALUES), hostileText);

/**
 * Fuzzed webhooks for a Twilio-format platform's `paths`, whose call ids look like `callId`
 * (Twilio's `CA…`, SignalWire's UUIDs): fields and queries that also get past the schemas.
 */
export function webhookRequests(paths: readonly string[], callId: fc.Arbitrary<string>): fc.Arbitrary<WebhookRequest> {
  const field = fc.tuple(fieldName, fc.oneof(callId, fieldValue));
  /** Some of the fields the platform always sends, well formed, so that fuzzed requests also get past the schemas. */
  const core = fc.tuple(callId, fc.constantFrom(...STATUS_VALUES), unknownSid('PK')).chain(([callSid, status, paymentSid]) => {
    const all: Array<[string, string]> = [
      ['CallSid', callSid],
      ['CallStatus', status],
      ['StreamEvent', status],
      ['Sid', paymentSid],
    ];
    return fc.oneof(fc.constant(all), fc.subarray(all));
  });
  const query = fc.oneof(
    fc.constant(''),
    callId.map((id) => `?call=${id}`),
    fc.array(fc.tuple(fieldName, hostileText.filter((v) => v.length < 200)), { minLength: 1, maxLength: 3 }).map((pairs) => `?${new URLSearchParams(pairs)}`),
  );
  return fc.record({
    path: fc.constantFrom(...paths),
    query,
    encoding: fc.constantFrom<Encoding>('form', 'form', 'form', 'json', 'wrong-type', 'empty'),
    // A field repeated verbatim makes duplicated keys (the parser turns them into arrays).
    fields: fc
      .tuple(core, fc.array(field, { maxLength: 12 }))
      .map(([c, extra]) => [...c, ...extra])
      .chain((fields) =>
        fields.length === 0 ? fc.constant(fields) : fc.subarray(fields, { maxLength: Math.min(3, fields.length) }).map((repeats) => [...fields, ...repeats]),
      ),
  });
}

export const webhookRequest: fc.Arbitrary<WebhookRequest> = webhookRequests(WEBHOOK_PATHS, unknownSid('CA'));

function encode(request: WebhookRequest): { contentType: string | undefined; body: string | undefined } {
  const form = new URLSearchParams(request.fields).toString();
  switch (request.encoding) {
    case 'form':
      return { contentType: 'application/x-www-form-urlencoded', body: form };
    case 'json':
      // Written by hand so that repeated fields stay repeated keys in the JSON text.
      return { contentType: 'application/json', body: `{${request.fields.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}` };
    case 'wrong-type':
      return { contentType: 'text/plain', body: form };
    case 'empty':
      return { contentType: undefined, body: undefined };
  }
}

/** The parameters the service sees after its form parser (repeated keys become arrays); what Twilio signs. */
function parsedParams(request: WebhookRequest, body: string | undefined): Record<string, string | string[]> {
  const params: Record<string, string | string[]> = {};
  if (request.encoding !== 'form' || !body) return params;
  for (const [key, value] of new URLSearchParams(body)) {
    const seen = params[key];
    params[key] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  return params;
}

export type Signing = 'valid' | 'missing' | 'wrong-token' | 'wrong-url' | 'garbage';
export const signing: fc.Arbitrary<Exclude<Signing, 'valid'>> = fc.constantFrom('missing', 'wrong-token', 'wrong-url', 'garbage');

function signatureFor(target: TwilioTarget, request: WebhookRequest, params: Record<string, string | string[]>, how: Signing): string | undefined {
  const url = target.publicUrl.replace(/\/$/, '') + request.path + request.query;
  switch (how) {
    case 'valid':
      return twilio.getExpectedTwilioSignature(target.authToken, url, params);
    case 'wrong-token':
      return twilio.getExpectedTwilioSignature(`${target.authToken}x`, url, params);
    case 'wrong-url':
      return twilio.getExpectedTwilioSignature(target.authToken, `${target.baseUrl}${request.path}${request.query}`, params);
    case 'garbage':
      return 'Zm9yZ2VkIHNpZ25hdHVyZQ==';
    case 'missing':
      return undefined;
  }
}

/** Sends one fuzzed webhook to the service, signed as `how` says (in `signatureHeader`: Twilio's, or a compatible platform's). */
export async function sendWebhook(target: TwilioTarget, request: WebhookRequest, how: Signing, signatureHeader = 'x-twilio-signature'): Promise<Answer & { bodyBytes: number }> {
  const { contentType, body } = encode(request);
  const signature = signatureFor(target, request, parsedParams(request, body), how);
  const headers: Record<string, string> = {};
  if (contentType) headers['content-type'] = contentType;
  if (signature) headers[signatureHeader] = signature;
  const response = await fetch(`${target.baseUrl}${request.path}${request.query}`, { method: 'POST', headers, body });
  return { ...(await readAnswer(response)), bodyBytes: Buffer.byteLength(body ?? '') };
}

/** Whether a 2xx answer is what Twilio expects: TwiML, or nothing at all. */
export function isTwilioSuccess(answer: Answer): boolean {
  if (answer.status === 204) return answer.text === '';
  return answer.status === 200 && answer.contentType.includes('xml') && answer.text.startsWith('<?xml') && answer.text.includes('<Response>');
}
