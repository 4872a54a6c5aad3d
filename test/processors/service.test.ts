import { randomUUID } from 'node:crypto';
import { SignJWT, compactDecrypt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getServiceJwks } from '../../src/audit/service-key.js';
import type { Keypress } from '../../src/capture/types.js';
import { CLIENT_ASSERTION_TYPE } from '../../src/processors/client-auth.js';
import { enrollProcessor } from '../../src/processors/enrollment.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { processorKeyPairs, type ProcessorKeyPairs } from './keys.js';
import { assertNoCardData } from './no-card-data.js';
import { serveJwks } from './service-jwks.js';
import { startTestProcessor, type TestProcessor } from './test-processor.js';

const PUBLIC_URL = 'https://toneguard.test';
const PAN = '4111111111111111';
const CVV = '123';
const EXPIRY = `12${String((new Date().getUTCFullYear() + 2) % 100).padStart(2, '0')}`;
const CONNECTOR = { username: 'twilio-connector', password: 'connector-password-0123' };

let service: TestServer;
let processor: TestProcessor;
let acme: ProcessorKeyPairs;
let jwks: Awaited<ReturnType<typeof serveJwks>> | undefined;

beforeAll(async () => {
  acme = await processorKeyPairs('acme');
  processor = await startTestProcessor({
    encPrivate: acme.encPrivate,
    publicJwks: acme.jwks,
    serviceJwksUrl: () => jwks!.url,
    issuer: PUBLIC_URL,
  });
  service = await startTestServer({
    processors: [
      { name: 'acme', type: 'jwe-push', url: processor.url, jwk: acme.jwks.keys[0], timeoutMs: 2000, maxAttempts: 2 },
      { name: 'puller', type: 'vault' },
    ],
    connector: CONNECTOR,
  });
  // The running service's own signing key, published as its JWKS document is.
  jwks = await serveJwks(getServiceJwks(service.context.serviceKey));
});

afterAll(async () => {
  await service.close();
  await processor.close();
  await jwks?.close();
  assertNoCardData(service.logLines, [PAN, CVV]);
});

describe('the running service hands card data to processors', () => {
  let vaultToken: string;

  it('a capture completed by the capture engine reaches the processor as a JWE, and the agent view holds its token', async () => {
    const session = service.context.captures.start({
      callSid: 'CA0000000000000000000000000000beef',
      fields: [{ name: 'card_number' }, { name: 'expiry' }, { name: 'cvv' }],
      actor: { type: 'agent', id: 'agent-1' },
    });
    let at = 0;
    for (const key of `${PAN}#${EXPIRY}${CVV}`) session.press(key as Keypress, (at += 150), 'event');
    await expect.poll(() => session.view().state, { timeout: 5000 }).toBe('complete');

    const delivery = [...processor.accepted.values()].find((d) => d.payload.reference === session.id)!;
    expect(delivery.claims).toMatchObject({ iss: PUBLIC_URL, aud: processor.url });
    expect(delivery.payload.fields.card_number === PAN && delivery.payload.cvv === CVV).toBe(true);
    const result = session.view().result!;
    expect(result.token).toBe(processor.tokenFor(delivery.idempotencyKey));
    expect(result).toMatchObject({ brand: 'visa', last4: '1111', vaultToken: delivery.payload.vaultToken });
    vaultToken = result.vaultToken!;
  });

  it('lets an enrolled processor pull the record through /v1/detokenize, without the CVV the push consumed', async () => {
    const puller = await processorKeyPairs('puller');
    await enrollProcessor(service.dataDir, 'puller', puller.jwks);
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: puller.sigKid })
      .setIssuer('puller')
      .setSubject('puller')
      .setAudience(`${PUBLIC_URL}/v1/detokenize`)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('2m')
      .sign(puller.sigPrivate);
    const res = await fetch(`${service.url}/v1/detokenize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: vaultToken, include_cvv: true, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/jose/);
    const { plaintext } = await compactDecrypt(await res.text(), puller.encPrivate);
    const record = JSON.parse(Buffer.from(plaintext).toString('utf8'));
    expect(record.fields.card_number === PAN).toBe(true);
    expect(record).not.toHaveProperty('cvv');
  });

  it('pushes what the Generic Pay Connector receives and answers the processor token', async () => {
    const res = await fetch(`${service.url}/connectors/twilio-pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${CONNECTOR.username}:${CONNECTOR.password}`).toString('base64')}` },
      body: JSON.stringify({ method: 'tokenize', transaction_id: 'PK00000000000000000000000000000042', cardnumber: '5555555555554444', cvv: '737', expiry_month: '12', expiry_year: EXPIRY.slice(2) }),
    });
    const answer = (await res.json()) as { token_id: string; error_code: string | null };
    expect(answer.error_code).toBeNull();
    const delivery = [...processor.accepted.values()].find((d) => d.payload.reference === 'PK00000000000000000000000000000042')!;
    expect(answer.token_id).toBe(processor.tokenFor(delivery.idempotencyKey));
    expect(delivery.payload.last4).toBe('4444');
  });
});
