import { afterEach, describe, expect, it } from 'vitest';
import { startJsonRestStandIn, type JsonRestStandIn, type RestRoutes } from '../../../src/simulator/json-rest-stand-in.js';
import { createJambonzRestClient, jambonzTarget } from '../../../src/telephony/jambonz/rest-client.js';

const accountSid = 'fef61e75-0000-4000-8000-000000000000';
const apiKey = 'jambonz-api-key-0123';
let standIn: JsonRestStandIn | undefined;

afterEach(async () => {
  await standIn?.close();
  standIn = undefined;
});

async function client(routes: RestRoutes) {
  standIn = await startJsonRestStandIn(routes);
  return { rest: createJambonzRestClient({ accountSid, apiKey, apiBaseUrl: standIn.url + '/' }), standIn };
}

describe('jambonz REST client (against a local stand-in)', () => {
  it('creates the agent call with a Bearer key and hooks, and returns its sid', async () => {
    const { rest, standIn } = await client(() => ({ status: 201, body: { sid: '2531329f-fb09-4ef7-887e-84e648214436' } }));
    const sid = await rest.createCall({ from: '+15005550006', to: jambonzTarget('user:alice'), callHook: 'https://tg.example/jambonz/voice/agent?call=x', callStatusHook: 'https://tg.example/jambonz/status/call' });
    expect(sid).toBe('2531329f-fb09-4ef7-887e-84e648214436');
    expect(standIn.requests[0]).toEqual({
      method: 'POST',
      path: `/v1/Accounts/${accountSid}/Calls`,
      authorization: `Bearer ${apiKey}`,
      body: {
        from: '+15005550006',
        to: { type: 'user', name: 'alice' },
        call_hook: { url: 'https://tg.example/jambonz/voice/agent?call=x', method: 'POST' },
        call_status_hook: { url: 'https://tg.example/jambonz/status/call', method: 'POST' },
      },
    });
  });

  it('reads targets: numbers, SIP URIs, registered users', () => {
    expect(jambonzTarget('+15005550001')).toEqual({ type: 'phone', number: '+15005550001' });
    expect(jambonzTarget('sip:agent@pbx.example')).toEqual({ type: 'sip', sipUri: 'sip:agent@pbx.example' });
    expect(jambonzTarget('user:bob')).toEqual({ type: 'user', name: 'bob' });
  });

  it('hangs up with call_status completed; a call already gone is fine; errors name the status only', async () => {
    const { rest, standIn } = await client((request) => (request.path.endsWith('gone') ? { status: 404 } : request.method === 'PUT' ? { status: 202 } : { status: 480, body: { msg: 'no feature server for 4111111111111111' } }));
    await rest.hangup('2531329f-fb09-4ef7-887e-84e648214436');
    await rest.hangup('gone');
    expect(standIn.requests.map((r) => [r.method, r.path, r.body])).toEqual([
      ['PUT', `/v1/Accounts/${accountSid}/Calls/2531329f-fb09-4ef7-887e-84e648214436`, { call_status: 'completed' }],
      ['PUT', `/v1/Accounts/${accountSid}/Calls/gone`, { call_status: 'completed' }],
    ]);
    const failure = await rest.createCall({ from: '1', to: jambonzTarget('2'), callHook: 'https://x' }).catch((err: Error) => err);
    expect(failure).toMatchObject({ code: 'provider_api_error', message: 'jambonz REST Calls answered 480' });
    await expect(rest.hangup('../../x')).rejects.toMatchObject({ code: 'provider_api_error' });
  });

  it('refuses a created call without a sid', async () => {
    const { rest } = await client(() => ({ status: 201, body: {} }));
    await expect(rest.createCall({ from: '1', to: jambonzTarget('2'), callHook: 'https://x' })).rejects.toMatchObject({ code: 'provider_api_error', status: 502 });
  });
});
