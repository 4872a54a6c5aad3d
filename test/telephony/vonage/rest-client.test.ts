import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVonageRestStandIn, type VonageRestStandIn } from '../../../src/simulator/vonage/rest-stand-in.js';
import { VonageSigner } from '../../../src/simulator/vonage/signer.js';
import { agentEndpoint, createVonageVoiceClient, type VonageVoiceClient } from '../../../src/telephony/vonage/rest-client.js';

describe('Vonage Voice client (the SDK against a local stand-in)', () => {
  const signer = new VonageSigner();
  let standIn: VonageRestStandIn;
  let client: VonageVoiceClient;

  beforeAll(async () => {
    standIn = await startVonageRestStandIn(signer.applicationId, signer.publicKey);
    client = createVonageVoiceClient({ applicationId: signer.applicationId, apiBaseUrl: standIn.url }, signer.privateKeyPem);
  });
  afterAll(async () => {
    await standIn?.close();
  });

  it('places the agent call with its own answer URL (its NCCO comes from us when it answers), signed with the application key', async () => {
    const uuid = await client.createCall({ to: '+44 7700 900001', from: '+447700900000', answerUrl: 'https://t/vonage/voice/agent?call=abc', eventUrl: 'https://t/vonage/voice/event' });
    const created = await standIn.waitFor((r) => r.method === 'POST' && r.uuid === uuid);
    expect(created.authorized).toBe(true);
    expect(created.body).toMatchObject({
      to: [{ type: 'phone', number: '447700900001' }],
      from: { type: 'phone', number: '447700900000' },
      answer_url: ['https://t/vonage/voice/agent?call=abc'],
      answer_method: 'GET',
      event_url: ['https://t/vonage/voice/event'],
    });
    expect(created.body).not.toHaveProperty('ncco');
  });

  it('hangs a call up with PUT {action: hangup}', async () => {
    await client.hangup('63f61863-4a51-4f6b-86e1-46edebcf9356');
    const put = await standIn.waitFor((r) => r.method === 'PUT');
    expect(put).toMatchObject({ uuid: '63f61863-4a51-4f6b-86e1-46edebcf9356', authorized: true, body: { action: 'hangup' } });
  });

  it('errors name the operation and status only; a wrong key is refused by the stand-in', async () => {
    standIn.failNext(400);
    await expect(client.hangup('63f61863-4a51-4f6b-86e1-46edebcf9356')).rejects.toMatchObject({ code: 'vonage_api_error', message: 'Vonage Voice hangup answered 400' });
    const stranger = createVonageVoiceClient({ applicationId: signer.applicationId, apiBaseUrl: standIn.url }, new VonageSigner().privateKeyPem);
    await expect(stranger.createCall({ to: '1', from: '2', answerUrl: 'https://a', eventUrl: 'https://b' })).rejects.toMatchObject({ message: 'Vonage Voice create call answered 401' });
    const dead = createVonageVoiceClient({ applicationId: signer.applicationId, apiBaseUrl: 'http://127.0.0.1:9' }, signer.privateKeyPem, 2000);
    await expect(dead.hangup('63f61863-4a51-4f6b-86e1-46edebcf9356')).rejects.toMatchObject({ code: 'vonage_api_error' });
  });

  it('agent targets: numbers, SIP URIs, Client SDK users', () => {
    expect(agentEndpoint('+1 (555) 010-0000')).toEqual({ type: 'phone', number: '15550100000' });
    expect(agentEndpoint('sip:agent@pbx.example.com')).toEqual({ type: 'sip', uri: 'sip:agent@pbx.example.com' });
    expect(agentEndpoint('app:agent1')).toEqual({ type: 'app', user: 'agent1' });
  });
});
