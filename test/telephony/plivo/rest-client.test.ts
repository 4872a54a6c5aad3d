import { afterEach, describe, expect, it } from 'vitest';
import { startJsonRestStandIn, type JsonRestStandIn, type RestRoutes } from '../../../src/simulator/json-rest-stand-in.js';
import { createPlivoRestClient } from '../../../src/telephony/plivo/rest-client.js';

const authId = 'MAXXXXXXXXXXXXXXXXXX';
const authToken = 'plivo-test-token';
let standIn: JsonRestStandIn | undefined;

afterEach(async () => {
  await standIn?.close();
  standIn = undefined;
});

async function client(routes: RestRoutes) {
  standIn = await startJsonRestStandIn(routes);
  return { rest: createPlivoRestClient({ authId, authToken, apiBaseUrl: standIn.url }), standIn };
}

describe('Plivo REST client (against a local stand-in)', () => {
  it('places a call with Basic auth and a JSON body, and returns the request_uuid', async () => {
    const { rest, standIn } = await client(() => ({ status: 201, body: { api_id: 'a1', message: 'call fired', request_uuid: '9834029e-58b6-11e1-b8b7-a5bd0e4e126f' } }));
    const uuid = await rest.createCall({ from: '+15005550006', to: 'sip:agent@phone.plivo.com', answerUrl: 'https://tg.example/plivo/voice/agent?call=abc', hangupUrl: 'https://tg.example/plivo/voice/hangup' });
    expect(uuid).toBe('9834029e-58b6-11e1-b8b7-a5bd0e4e126f');
    const [request] = standIn.requests;
    expect(request.method).toBe('POST');
    expect(request.path).toBe(`/v1/Account/${authId}/Call/`);
    expect(request.authorization).toBe(`Basic ${Buffer.from(`${authId}:${authToken}`).toString('base64')}`);
    expect(request.body).toEqual({
      from: '+15005550006',
      to: 'sip:agent@phone.plivo.com',
      answer_url: 'https://tg.example/plivo/voice/agent?call=abc',
      answer_method: 'POST',
      hangup_url: 'https://tg.example/plivo/voice/hangup',
      hangup_method: 'POST',
    });
  });

  it('reads a request_uuid list (several destinations) and refuses an answer without one', async () => {
    let answer: unknown = { request_uuid: ['11111111-2222-3333-4444-555555555555'] };
    const { rest } = await client(() => ({ status: 201, body: answer }));
    await expect(rest.createCall({ from: '1', to: '2', answerUrl: 'https://x/a' })).resolves.toBe('11111111-2222-3333-4444-555555555555');
    answer = { message: 'call fired' };
    await expect(rest.createCall({ from: '1', to: '2', answerUrl: 'https://x/a' })).rejects.toMatchObject({ code: 'provider_api_error', status: 502 });
  });

  it('names the status, never the body, when Plivo refuses', async () => {
    const { rest } = await client(() => ({ status: 400, body: { error: 'to 4111111111111111 is invalid' } }));
    const failure = await rest.createCall({ from: '1', to: '4111111111111111', answerUrl: 'https://x/a' }).catch((err: Error) => err);
    expect(failure).toMatchObject({ code: 'provider_api_error', message: 'Plivo REST Call answered 400' });
    expect(String((failure as Error).message)).not.toContain('4111');
  });

  it('hangs up a call and cancels a request; one already gone is fine', async () => {
    const { rest, standIn } = await client((request) => ({ status: request.path.includes('gone') ? 404 : 204 }));
    await rest.hangupCall('c0ffee00-0000-4000-8000-000000000001');
    await rest.hangupCall('gone');
    await rest.cancelRequest('9834029e-58b6-11e1-b8b7-a5bd0e4e126f');
    expect(standIn.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `DELETE /v1/Account/${authId}/Call/c0ffee00-0000-4000-8000-000000000001/`,
      `DELETE /v1/Account/${authId}/Call/gone/`,
      `DELETE /v1/Account/${authId}/Request/9834029e-58b6-11e1-b8b7-a5bd0e4e126f/`,
    ]);
  });

  it('refuses ids that are not Plivo ids before any request, and surfaces server errors', async () => {
    const { rest, standIn } = await client(() => ({ status: 500 }));
    await expect(rest.hangupCall('../Call/x')).rejects.toMatchObject({ code: 'provider_api_error' });
    expect(standIn.requests).toHaveLength(0);
    await expect(rest.hangupCall('c0ffee00')).rejects.toMatchObject({ message: 'Plivo REST hangup answered 500' });
  });
});
