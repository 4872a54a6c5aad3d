import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startAgentApi, type AgentApi } from './fixtures.js';

// Who may call which route is in roles.test.ts; tokens, bodies and limits in auth.test.ts.
let api: AgentApi;
let call: string;

beforeAll(async () => {
  api = await startAgentApi();
  call = api.bindCall('alice');
});
afterAll(() => api.close());

describe('agent REST captures', () => {
  it('a second capture on the same call is 409; a supervisor may cancel it', async () => {
    const alice = await api.bearer('alice', 'agent');
    const url = api.server.url;
    const first = await request(url).post(`/v1/calls/${call}/captures`).set('authorization', alice).send({ fields: ['card_number'] }).expect(201);
    expect(first.body.view.callSid).toBe(call);
    await request(url).post(`/v1/calls/${call}/captures`).set('authorization', alice).send({ fields: ['card_number'] }).expect(409);
    await request(url).get(`/v1/captures/${first.body.id}`).set('authorization', await api.bearer('bob', 'agent')).expect(403);
    await request(url).post(`/v1/captures/${first.body.id}/cancel`).set('authorization', await api.bearer('sue', 'supervisor')).expect(200);
  });

  it('the JWKS document carries the dev issuer key', async () => {
    const res = await request(api.server.url).get('/.well-known/jwks.json').expect(200);
    expect(res.body.keys.some((k: { kid: string }) => k.kid.startsWith('dev-'))).toBe(true);
  });
});
