import fc from 'fast-check';
import { isJsonError, parseJson, type Answer } from './answers.js';
import { FUZZ_PANS, hostileText } from './values.js';

export const CONNECTOR_USER = 'fuzz-connector';
export const CONNECTOR_PASSWORD = 'fuzz-connector-password-0123';

const digitString = (min: number, max: number) => fc.stringMatching(new RegExp(`^\\d{${min},${max}}$`));
const nextYear = String((new Date().getUTCFullYear() + 1) % 100).padStart(2, '0');

/** Generic Pay Connector bodies: Twilio's shape with random fields, always carrying a test PAN somewhere. */
const connectorShaped = fc
  .record(
    {
      method: fc.oneof(fc.constantFrom('charge', 'tokenize'), hostileText),
      transaction_id: fc.oneof(fc.uuid(), hostileText),
      cardnumber: fc.oneof(fc.constantFrom(...FUZZ_PANS), digitString(1, 25), hostileText),
      cvv: fc.oneof(digitString(3, 4), hostileText),
      expiry_month: fc.oneof(fc.constantFrom('01', '08', '12'), hostileText),
      expiry_year: fc.oneof(fc.constant(nextYear), digitString(2, 4), hostileText),
      amount: fc.oneof(fc.constantFrom('10.0', '0', '-1'), fc.double().map(String), hostileText),
      currency_code: hostileText,
      postal_code: hostileText,
      description: fc.constantFrom(...FUZZ_PANS).map((pan) => `card ${pan}`),
      parameters: fc.oneof(fc.dictionary(hostileText, fc.jsonValue()), fc.jsonValue()),
      bankaccountnumber: fc.oneof(digitString(4, 17), hostileText),
      routingnumber: fc.oneof(fc.constant('011000015'), digitString(9, 9), hostileText),
    },
    { requiredKeys: ['method', 'transaction_id'] },
  )
  .map((body) => JSON.stringify(body));

/** Bodies the connector accepts, so the fuzz also drives tokenization and idempotent replays. */
const connectorValid = fc
  .record({ method: fc.constantFrom('charge', 'tokenize'), transaction_id: fc.oneof(fc.uuid(), fc.constantFrom('PK-fuzz-1', 'PK-fuzz-2')), cardnumber: fc.constantFrom(...FUZZ_PANS) })
  .map((body) => JSON.stringify({ ...body, expiry_month: '08', expiry_year: nextYear, amount: '10.00', currency_code: 'USD' }));

export const connectorBody: fc.Arbitrary<string> = fc.oneof(
  { weight: 1, arbitrary: connectorValid },
  { weight: 4, arbitrary: connectorShaped },
  { weight: 1, arbitrary: fc.jsonValue().map((value) => JSON.stringify(value)) },
  { weight: 1, arbitrary: hostileText },
);

export type ConnectorAuth = 'right' | 'wrong-password' | 'wrong-user' | 'none' | 'malformed';
export const connectorAuth: fc.Arbitrary<ConnectorAuth> = fc.constantFrom('right', 'right', 'right', 'wrong-password', 'wrong-user', 'none', 'malformed');

export function authorizationFor(auth: ConnectorAuth): string | undefined {
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  switch (auth) {
    case 'right':
      return basic(CONNECTOR_USER, CONNECTOR_PASSWORD);
    case 'wrong-password':
      return basic(CONNECTOR_USER, `${CONNECTOR_PASSWORD}x`);
    case 'wrong-user':
      return basic('twilio', CONNECTOR_PASSWORD);
    case 'malformed':
      return `Basic ${CONNECTOR_USER}:${CONNECTOR_PASSWORD}`;
    case 'none':
      return undefined;
  }
}

/**
 * The connector speaks Twilio's Generic Pay Connector protocol, whose answers carry
 * `error_code`/`error_message` at the top level; limits enforced before it (413) use the
 * service-wide shape.
 */
export function isConnectorRefusal(answer: Answer): boolean {
  if (isJsonError(answer)) return true;
  const body = parseJson(answer.text) as { error_code?: unknown; error_message?: unknown } | null | undefined;
  return answer.contentType.includes('json') && typeof body?.error_code === 'string' && typeof body.error_message === 'string';
}
