import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpsRequest, createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import express from 'express';
import request from 'supertest';
import { SignJWT, compactDecrypt, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/audit/logger.js';
import { MemoryAuditSink } from '../../src/audit/types.js';
import { errorHandler } from '../../src/http/errors.js';
import { httpsServerOptions } from '../../src/http/tls.js';
import { ProcessorCa } from '../../src/processors/ca.js';
import { Metrics } from '../../src/audit/metrics.js';
import { CLIENT_ASSERTION_TYPE } from '../../src/processors/client-auth.js';
import { AssertionReplayStore } from '../../src/processors/replay-store.js';
import { DETOKENIZE_PATH, detokenizeRouter } from '../../src/processors/detokenize.js';
import { processorClientTls, enrollProcessor, processorPaths, type Enrollment } from '../../src/processors/enrollment.js';
import { FileProcessorRegistry, type ProcessorRegistry } from '../../src/processors/registry.js';
import { processorKeyPairs, type ProcessorKeyPairs } from './keys.js';
import { assertNoCardData } from './no-card-data.js';
import { testVault } from './vault.js';

const PUBLIC_URL = 'https://toneguard.test';
const AUDIENCE = `${PUBLIC_URL}${DETOKENIZE_PATH}`;
const PAN = '5555555555554444';
const CVV = '737';

const logLines: string[] = [];
const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void logLines.push(line) } });
let dataDir: string;
let acme: ProcessorKeyPairs;
let acmeEnrollment: Enrollment;
let registry: ProcessorRegistry;
let vault: ReturnType<typeof testVault>;
let audit: MemoryAuditSink;

function app(requestsPerMinute = 100) {
  const http = express();
  http.set('trust proxy', false);
  http.use(detokenizeRouter(routerDeps(registry, requestsPerMinute)));
  http.use(errorHandler(logger));
  return http;
}

function routerDeps(processors: ProcessorRegistry, requestsPerMinute: number) {
  const replay = new AssertionReplayStore(':memory:');
  return { vault, registry: processors, audit, logger, metrics: new Metrics(), publicUrl: PUBLIC_URL, requestsPerMinute, bodyLimitBytes: 16_384, replay, maxAssertionLifetimeSec: 300 };
}

async function cardToken(readers = ['acme']): Promise<string> {
  const info = await vault.tokenizeValues({
    kind: 'card',
    values: { card_number: PAN, expiry: '1230', cvv: CVV },
    actor: { type: 'system', id: 'test' },
    reference: randomUUID(),
    readers,
  });
  return info.token;
}

async function assertion(options: { issuer?: string; key?: ProcessorKeyPairs['sigPrivate']; kid?: string; audience?: string; expired?: boolean; jti?: string } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: options.kid ?? acme.sigKid })
    .setIssuer(options.issuer ?? 'acme')
    .setSubject(options.issuer ?? 'acme')
    .setAudience(options.audience ?? AUDIENCE)
    .setJti(options.jti ?? randomUUID());
  if (options.expired) jwt.setIssuedAt(now - 600).setExpirationTime(now - 300);
  else jwt.setIssuedAt(now).setExpirationTime(now + 120);
  return jwt.sign(options.key ?? acme.sigPrivate);
}

async function decrypt(body: string): Promise<Record<string, unknown>> {
  const { plaintext, protectedHeader } = await compactDecrypt(body, acme.encPrivate);
  expect(protectedHeader).toMatchObject({ alg: 'RSA-OAEP-256', enc: 'A256GCM' });
  return JSON.parse(Buffer.from(plaintext).toString('utf8'));
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'toneguard-detok-'));
  acme = await processorKeyPairs('acme');
  acmeEnrollment = await enrollProcessor(dataDir, 'acme', acme.jwks);
  registry = new FileProcessorRegistry(processorPaths(dataDir).registry);
  vault = testVault();
  audit = new MemoryAuditSink();
});

afterAll(() => assertNoCardData(logLines, [PAN, CVV]));

describe('POST /v1/detokenize with a private_key_jwt client assertion', () => {
  it('answers a JWE to the processor key, never plain JSON, with a one-time CVV', async () => {
    const token = await cardToken();
    const first = await request(app())
      .post(DETOKENIZE_PATH)
      .send({ token, include_cvv: true, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: await assertion() })
      .buffer(true)
      .parse((res, done) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => done(null, text));
      });
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toMatch(/^application\/jose/);
    expect(first.body as string).not.toContain(PAN);
    const data = await decrypt(first.body as string);
    expect(data).toMatchObject({ token, kind: 'card', last4: '4444', brand: 'mastercard' });
    expect((data.fields as Record<string, string>).card_number === PAN).toBe(true);
    expect(data.cvv === CVV).toBe(true);

    const second = await request(app())
      .post(DETOKENIZE_PATH)
      .type('form')
      .send({ token, include_cvv: 'true', client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: await assertion() });
    expect(second.status).toBe(200);
    expect(await decrypt(second.text)).not.toHaveProperty('cvv');
    const successes = audit.events.filter((e) => e.action === 'processor.detokenize' && e.outcome === 'success' && e.resource?.id === token);
    expect(successes).toHaveLength(2);
    expect(successes[0].actor).toMatchObject({ type: 'processor', id: 'acme', roles: ['processor'] });
    expect(successes[0].details).toMatchObject({ method: 'private_key_jwt', cvvReturned: true });
  });

  it.each([
    ['an expired assertion', () => assertion({ expired: true }), 'client_assertion_expired'],
    ['an assertion signed by the wrong key', async () => assertion({ key: (await generateKeyPair('ES256')).privateKey }), 'invalid_client_assertion'],
    ['an assertion for another audience', () => assertion({ audience: 'https://elsewhere.test/v1/detokenize' }), 'invalid_client_assertion'],
    ['an unknown client', () => assertion({ issuer: 'nobody' }), 'invalid_client'],
    ['garbage', async () => 'not-a-jwt', 'invalid_client_assertion'],
  ])('refuses %s', async (_label, make, code) => {
    const token = await cardToken();
    const res = await request(app())
      .post(DETOKENIZE_PATH)
      .send({ token, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: await make() });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe(code);
    expect(audit.events.at(-1)).toMatchObject({ action: 'processor.detokenize', outcome: 'denied', details: { code } });
  });

  it('refuses a replayed assertion and a request with no client authentication', async () => {
    const token = await cardToken();
    const once = await assertion();
    const body = { token, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: once };
    const http = app();
    expect((await request(http).post(DETOKENIZE_PATH).send(body)).status).toBe(200);
    const replayed = await request(http).post(DETOKENIZE_PATH).send(body);
    expect(replayed.body.error.code).toBe('client_assertion_replayed');
    const anonymous = await request(http).post(DETOKENIZE_PATH).set('authorization', 'Bearer agent-jwt').send({ token });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('client_authentication_required');
  });

  it('refuses a revoked processor', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'toneguard-detok-'));
    const other = await processorKeyPairs('beta');
    await enrollProcessor(dir, 'beta', other.jwks);
    const betaRegistry = new FileProcessorRegistry(processorPaths(dir).registry);
    const http = express().use(detokenizeRouter(routerDeps(betaRegistry, 10))).use(errorHandler(logger));
    const token = await cardToken(['beta']);
    const make = () => assertion({ issuer: 'beta', key: other.sigPrivate, kid: other.sigKid });
    expect((await request(http).post(DETOKENIZE_PATH).send({ token, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: await make() })).status).toBe(200);
    expect(await new FileProcessorRegistry(processorPaths(dir).registry).revoke('beta')).toBe(true);
    const res = await request(http).post(DETOKENIZE_PATH).send({ token, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: await make() });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('invalid_client');
  });

  it('answers an unknown token with 404 and audits the failure', async () => {
    const res = await request(app()).post(DETOKENIZE_PATH).send({ token: 'tok_missing', client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: await assertion() });
    expect(res.status).toBe(404);
    expect(audit.events.at(-1)).toMatchObject({ outcome: 'failure', details: { code: 'token_not_found' } });
  });

  it('rate-limits per processor', async () => {
    const http = app(2);
    const token = await cardToken();
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await request(http).post(DETOKENIZE_PATH).send({ token, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: await assertion() })).status);
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(audit.events.at(-1)).toMatchObject({ action: 'processor.detokenize', outcome: 'denied', actor: { id: 'acme' }, details: { code: 'rate_limited' } });
  });
});

describe('POST /v1/detokenize over mTLS', () => {
  let server: Server;
  let port: number;
  let foreign: ReturnType<ProcessorCa['issueClientCertificate']>;
  let serverCert: ReturnType<ProcessorCa['issueClientCertificate']>;

  beforeAll(async () => {
    expect(processorClientTls(mkdtempSync(join(tmpdir(), 'toneguard-noca-')))).toBeUndefined();
    // Another CA: it signs the test server's certificate and a client certificate we never enrolled.
    const otherCa = new ProcessorCa(mkdtempSync(join(tmpdir(), 'toneguard-otherca-')));
    serverCert = otherCa.issueClientCertificate('localhost');
    foreign = otherCa.issueClientCertificate('acme');
    server = createHttpsServer(httpsServerOptions({ cert: serverCert.certPem, key: serverCert.keyPem, ...processorClientTls(dataDir) }), app());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  function call(client: { cert: string; key: string } | undefined, body: object): Promise<{ status: number; type: string; text: string }> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        { host: '127.0.0.1', port, path: DETOKENIZE_PATH, method: 'POST', rejectUnauthorized: false, agent: false, headers: { 'content-type': 'application/json' }, ...client },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), text }));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  }

  it('serves an enrolled certificate, then refuses it on the next connection once revoked', async () => {
    const client = { cert: readFileSync(acmeEnrollment.certPath, 'utf8'), key: readFileSync(acmeEnrollment.keyPath, 'utf8') };
    const token = await cardToken();
    const ok = await call(client, { token });
    expect(ok.status).toBe(200);
    expect(ok.type).toMatch(/^application\/jose/);
    expect(await decrypt(ok.text)).toMatchObject({ token, last4: '4444' });
    expect(audit.events.at(-1)).toMatchObject({ outcome: 'success', details: { method: 'mtls' } });

    await new FileProcessorRegistry(processorPaths(dataDir).registry).revoke('acme');
    const refused = await call(client, { token });
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.text).error.code).toBe('client_certificate_refused');
    await enrollProcessor(dataDir, 'acme', acme.jwks);
  });

  it('refuses a certificate from another CA, and asks for client authentication without one', async () => {
    const token = await cardToken();
    const untrusted = await call({ cert: foreign.certPem, key: foreign.keyPem }, { token });
    expect(JSON.parse(untrusted.text).error.code).toBe('client_certificate_untrusted');
    const none = await call(undefined, { token });
    expect(JSON.parse(none.text).error.code).toBe('client_authentication_required');
  });
});
