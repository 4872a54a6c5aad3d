import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { SignJWT, generateKeyPair } from 'jose';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { mintDevToken } from '../../src/agent/dev-issuer.js';

let server: TestServer;
const CALL = 'CA00000000000000000000000000000001';

beforeAll(async () => {
  server = await startTestServer();
  server.context.calls.upsert({ callSid: CALL, sessionId: 's1', agentId: 'alice', state: 'bridged', startedAt: new Date().toISOString() });
});
afterAll(() => server.close());

const token = (sub: string, role: string) => mintDevToken(server.context.config, { sub, role });

describe('agent REST role matrix', () => {
  const cases: Array<{ who: [string, string]; status: number }> = [
    { who: ['alice', 'agent'], status: 201 },
    { who: ['bob', 'agent'], status: 403 },
    { who: ['sam', 'admin'], status: 403 },
    { who: ['pat', 'processor'], status: 403 },
    { who: ['aud', 'auditor'], status: 403 },
  ];
  it.each(cases)('POST captures as $who → $status', async ({ who, status }) => {
    const res = await request(server.url)
      .post(`/v1/calls/${CALL}/captures`)
      .set('authorization', `Bearer ${await token(...who)}`)
      .send({ fields: ['card_number'] });
    expect(res.status).toBe(status);
    if (status === 201) await request(server.url).post(`/v1/captures/${res.body.id}/cancel`).set('authorization', `Bearer ${await token(...who)}`).expect(200);
  });

  it('a second capture on the same call is 409; a supervisor may cancel it', async () => {
    const alice = `Bearer ${await token('alice', 'agent')}`;
    const first = await request(server.url).post(`/v1/calls/${CALL}/captures`).set('authorization', alice).send({ fields: ['card_number'] }).expect(201);
    expect(first.body.view.callSid).toBe(CALL);
    await request(server.url).post(`/v1/calls/${CALL}/captures`).set('authorization', alice).send({ fields: ['card_number'] }).expect(409);
    await request(server.url).get(`/v1/captures/${first.body.id}`).set('authorization', `Bearer ${await token('bob', 'agent')}`).expect(403);
    await request(server.url).post(`/v1/captures/${first.body.id}/cancel`).set('authorization', `Bearer ${await token('sue', 'supervisor')}`).expect(200);
  });

  it('unknown fields are 422', async () => {
    const res = await request(server.url).post(`/v1/calls/${CALL}/captures`).set('authorization', `Bearer ${await token('alice', 'agent')}`).send({ fields: ['card_number'], extra: 1 });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('invalid_request');
  });
});

describe('bad tokens', () => {
  it.each([
    ['missing', async () => ''],
    ['forged', async () => {
      const { privateKey } = await generateKeyPair('ES256');
      return new SignJWT({ roles: ['agent'] }).setProtectedHeader({ alg: 'ES256' }).setSubject('alice').setIssuer('toneguard-dev').setAudience('toneguard').setExpirationTime('1h').sign(privateKey);
    }],
    ['alg none', async () => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"alice","roles":["agent"]}').toString('base64url')}.`],
  ])('%s → 401 with auth.failed', async (_name, make) => {
    const t = await make();
    const req = request(server.url).get('/v1/me');
    const res = await (t ? req.set('authorization', `Bearer ${t}`) : req);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthenticated');
  });

  it('the JWKS document carries the dev issuer key', async () => {
    const res = await request(server.url).get('/.well-known/jwks.json').expect(200);
    expect(res.body.keys.some((k: { kid: string }) => k.kid.startsWith('dev-'))).toBe(true);
  });
});
