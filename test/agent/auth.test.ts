import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWTPayload } from 'jose';
import WebSocket from 'ws';
import { EVENTS_PATH, EVENTS_SUBPROTOCOL } from '../../src/agent/index.js';
import { startAgentApi, type AgentApi } from './fixtures.js';

const ISSUER = 'https://idp.toneguard.test';
const AUDIENCE = 'toneguard-api';
const KID = 'idp-key-1';
const TOLERANCE_SEC = 30;
const STARTS_PER_MINUTE = 2;
const BODY_LIMIT = 4096;

let api: AgentApi;
let jwks: Server;
let idpKey: CryptoKey;

/** A stand-in identity provider: serves the JWKS document the service is configured to trust. */
async function startJwksServer(): Promise<{ server: Server; url: string }> {
  const pair = await generateKeyPair('ES256', { extractable: true });
  idpKey = pair.privateKey;
  const doc = JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: KID, alg: 'ES256', use: 'sig' }] });
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(doc));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json` };
}

beforeAll(async () => {
  const idp = await startJwksServer();
  jwks = idp.server;
  api = await startAgentApi({
    auth: { jwksUrl: idp.url, devIssuer: false, issuer: ISSUER, audience: AUDIENCE, clockToleranceSec: TOLERANCE_SEC, mfaRoles: ['supervisor'] },
    http: { captureStartsPerMinutePerAgent: STARTS_PER_MINUTE, bodyLimitBytes: BODY_LIMIT },
  });
});
afterAll(async () => {
  await api.close();
  await new Promise((resolve) => jwks.close(resolve));
});

const now = () => Math.floor(Date.now() / 1000);

interface TokenOptions {
  claims?: JWTPayload;
  sub?: string | null;
  iss?: string;
  aud?: string;
  /** Seconds since the epoch; null leaves the claim out. */
  exp?: number | null;
  kid?: string;
  key?: CryptoKey | Uint8Array;
  alg?: string;
}

/** A token as the identity provider issues it, with any part changed. */
function token(options: TokenOptions = {}): Promise<string> {
  const jwt = new SignJWT({ roles: ['agent'], ...options.claims })
    .setProtectedHeader({ alg: options.alg ?? 'ES256', kid: options.kid ?? KID, typ: 'JWT' })
    .setIssuer(options.iss ?? ISSUER)
    .setAudience(options.aud ?? AUDIENCE)
    .setIssuedAt();
  if (options.exp !== null) jwt.setExpirationTime(options.exp ?? now() + 600);
  if (options.sub !== null) jwt.setSubject(options.sub ?? 'alice');
  return jwt.sign(options.key ?? idpKey);
}

function unsigned(): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ sub: 'alice', roles: ['agent'], iss: ISSUER, aud: AUDIENCE, exp: now() + 600 })}.`;
}

function expectError(res: request.Response, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.body).toEqual({ error: { code, message: expect.any(String) } });
}

describe('tokens verified against a remote JWKS', () => {
  it('a valid token → 200', async () => {
    const res = await request(api.server.url).get('/v1/me').set('authorization', `Bearer ${await token()}`).expect(200);
    expect(res.body).toMatchObject({ sub: 'alice', roles: ['agent'] });
  });

  it('a token expired within the clock tolerance → 200', async () => {
    await request(api.server.url).get('/v1/me').set('authorization', `Bearer ${await token({ exp: now() - TOLERANCE_SEC / 3 })}`).expect(200);
  });

  const refused: Array<[string, () => Promise<string>, string]> = [
    ['expired beyond the clock tolerance', () => token({ exp: now() - TOLERANCE_SEC * 4 }), 'expired'],
    ['wrong audience', () => token({ aud: 'another-service' }), 'claim_aud'],
    ['wrong issuer', () => token({ iss: 'https://evil.test' }), 'claim_iss'],
    ['forged: another key under the same kid', async () => token({ key: (await generateKeyPair('ES256')).privateKey }), 'bad_signature'],
    ['unsigned (alg none)', async () => unsigned(), 'alg_not_allowed'],
    ['HS256 keyed with the public key', async () => token({ alg: 'HS256', key: new TextEncoder().encode(await exportSPKI((await generateKeyPair('ES256', { extractable: true })).publicKey)) }), 'alg_not_allowed'],
    ['unknown kid', () => token({ kid: 'not-a-published-key' }), 'unknown_key'],
    ['no sub', () => token({ sub: null }), 'missing_subject'],
    ['no exp: a token that never expires is refused', () => token({ exp: null }), 'claim_exp'],
    ['garbage', async () => 'not.a.jwt', 'malformed'],
  ];

  it.each(refused)('%s → 401, auth.failed with its reason, token not echoed', async (_name, make, reason) => {
    const t = await make();
    const before = api.lastSeq();
    const res = await request(api.server.url).get('/v1/me').set('authorization', `Bearer ${t}`);
    expectError(res, 401, 'unauthenticated');
    expect(res.text).not.toContain(t);
    expect(JSON.stringify(res.headers)).not.toContain(t);
    const failures = api.auditSince(before).filter((r) => r.action === 'auth.failed');
    expect(failures).toHaveLength(1);
    expect(failures[0]!.details).toMatchObject({ reason });
    expect(JSON.stringify(failures[0])).not.toContain(t);
  });

  it.each([
    ['no Authorization header', undefined],
    ['an empty header', ''],
    ['"Bearer" without a token', 'Bearer'],
    ['"Bearer " with a blank token', 'Bearer  '],
    ['another scheme', 'Basic YWxpY2U6c2VjcmV0'],
  ])('%s → 401 missing_token', async (_name, header) => {
    const before = api.lastSeq();
    const req = request(api.server.url).get('/v1/me');
    expectError(await (header === undefined ? req : req.set('authorization', header)), 401, 'unauthenticated');
    expect(api.auditSince(before).find((r) => r.action === 'auth.failed')?.details).toMatchObject({ reason: 'missing_token' });
  });

  it('a token in the query string is ignored → 401', async () => {
    const t = await token();
    const res = await request(api.server.url).get(`/v1/me?access_token=${t}`);
    expectError(res, 401, 'unauthenticated');
    expect(res.text).not.toContain(t);
  });
});

describe('auth.mfaRoles', () => {
  it('a supervisor token without an MFA amr loses the role: 403, auth.denied mfa_required', async () => {
    for (const amr of [undefined, ['pwd'], 'mfa']) {
      const before = api.lastSeq();
      const res = await request(api.server.url).get('/v1/calls').set('authorization', `Bearer ${await token({ sub: 'sue', claims: { roles: ['supervisor'], amr } })}`);
      expectError(res, 403, 'forbidden');
      const denied = api.auditSince(before).filter((r) => r.action === 'auth.denied');
      expect(denied).toHaveLength(1);
      expect(denied[0]).toMatchObject({ actor: { id: 'sue', roles: [] }, details: { reason: 'mfa_required' } });
    }
  });

  it.each([['mfa'], ['pwd', 'otp'], ['hwk']])('a supervisor token with amr [%s] → allowed', async (...amr) => {
    // One subject per case: capture starts are rate-limited per subject.
    const sue = `Bearer ${await token({ sub: `sue-${amr.join('-')}`, claims: { roles: ['supervisor'], amr } })}`;
    await request(api.server.url).get('/v1/calls').set('authorization', sue).expect(200);
    const call = api.bindCall('alice');
    const started = await request(api.server.url).post(`/v1/calls/${call}/captures`).set('authorization', sue).send({ fields: ['cvv'] }).expect(201);
    await request(api.server.url).post(`/v1/captures/${started.body.id}/cancel`).set('authorization', sue).expect(200);
  });

  it('the events socket refuses a supervisor without MFA with 4403 and mfa_required, and admits one with it', async () => {
    const url = api.server.url.replace(/^http/, 'ws') + EVENTS_PATH;
    const before = api.lastSeq();
    const without = new WebSocket(url, [EVENTS_SUBPROTOCOL, `bearer.${await token({ sub: 'sue', claims: { roles: ['supervisor'] } })}`]);
    const [code] = (await once(without, 'close')) as [number];
    expect(code).toBe(4403);
    expect(api.auditSince(before).find((r) => r.action === 'auth.denied')?.details).toMatchObject({ reason: 'mfa_required', channel: 'events' });

    const withMfa = new WebSocket(url, [EVENTS_SUBPROTOCOL, `bearer.${await token({ sub: 'sue', claims: { roles: ['supervisor'], amr: ['mfa'] } })}`]);
    const [ready] = (await once(withMfa, 'message')) as [Buffer];
    expect(JSON.parse(ready.toString())).toMatchObject({ type: 'ready', sub: 'sue', roles: ['supervisor'] });
    withMfa.close();
  });

  it('roles outside mfaRoles need no amr; an agent-and-supervisor without MFA keeps only agent', async () => {
    const both = `Bearer ${await token({ sub: 'dave', claims: { roles: ['agent', 'supervisor'] } })}`;
    expect((await request(api.server.url).get('/v1/me').set('authorization', both).expect(200)).body.roles).toEqual(['agent']);
    const call = api.bindCall('alice');
    const before = api.lastSeq();
    expectError(await request(api.server.url).post(`/v1/calls/${call}/captures`).set('authorization', both).send({ fields: ['cvv'] }), 403, 'forbidden');
    expect(api.auditSince(before).find((r) => r.action === 'auth.denied')?.details).toMatchObject({ reason: 'mfa_required' });
  });
});

describe('bad bodies, unknown routes, limits', () => {
  const start = async (sub: string, body: string | object, type = 'application/json') => {
    const call = api.bindCall(sub);
    return request(api.server.url).post(`/v1/calls/${call}/captures`).set('authorization', `Bearer ${await token({ sub })}`).set('content-type', type).send(body);
  };

  it.each([
    { name: 'a body over http.bodyLimitBytes', body: { fields: ['card_number'], options: { subjectId: 'x'.repeat(BODY_LIMIT) } }, status: 413, code: 'payload_too_large' },
    { name: 'unknown fields', body: { fields: ['card_number'], extra: 1 }, status: 422, code: 'invalid_request' },
    { name: 'unknown options', body: { fields: ['card_number'], options: { mask: 'tones', debug: true } }, status: 422, code: 'invalid_request' },
    { name: 'no fields', body: { fields: [] }, status: 422, code: 'invalid_request' },
    { name: 'malformed JSON', body: '{"fields":["card_number"', status: 400, code: 'malformed_body' },
  ])('$name → $status', async ({ name, body, status, code }) => {
    // One subject per case: capture starts are rate-limited per subject.
    expectError(await start(`carol-${name.replace(/\W+/g, '-')}`, body), status, code);
  });

  it.each([
    ['GET', '/v1/nothing-here'],
    ['POST', '/v1/captures'],
    ['DELETE', '/v1/me'],
  ])('%s %s → 404 JSON', async (method, path) => {
    const res = await request(api.server.url)[method.toLowerCase() as 'get'](path).set('authorization', `Bearer ${await token()}`);
    expectError(res, 404, 'not_found');
  });

  it('capture starts above http.captureStartsPerMinutePerAgent → 429 for that agent only', async () => {
    for (let i = 0; i < STARTS_PER_MINUTE; i++) {
      const res = await start('erin', { fields: ['cvv'] });
      expect(res.status).toBe(201);
      await request(api.server.url).post(`/v1/captures/${res.body.id}/cancel`).set('authorization', `Bearer ${await token({ sub: 'erin' })}`).expect(200);
    }
    expectError(await start('erin', { fields: ['cvv'] }), 429, 'rate_limited');
    expect((await start('frank', { fields: ['cvv'] })).status).toBe(201);
  });
});
