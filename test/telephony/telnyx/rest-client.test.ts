import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTelnyxRestStandIn, type TelnyxRestStandIn } from '../../../src/simulator/telnyx/rest-stand-in.js';
import { createTelnyxCallControl, type TelnyxCallControl } from '../../../src/telephony/telnyx/rest-client.js';

describe('Telnyx Call Control client (the SDK against a local stand-in)', () => {
  let standIn: TelnyxRestStandIn;
  let client: TelnyxCallControl;

  beforeAll(async () => {
    standIn = await startTelnyxRestStandIn();
    client = createTelnyxCallControl({ apiKey: 'KEY0123_test', apiBaseUrl: standIn.url });
  });
  afterAll(async () => {
    await standIn?.close();
  });

  it('dials the agent on the Call Control application, correlating it through client_state', async () => {
    const id = await client.dial({ connectionId: '1684641123236054244', to: 'sip:agent@example.com', from: '+15005550001', callerCallId: 'v3:caller' });
    const dial = await standIn.waitFor((c) => c.action === 'dial' && c.callControlId === id);
    expect(dial.apiKey).toBe('KEY0123_test');
    expect(dial.body).toMatchObject({ connection_id: '1684641123236054244', to: 'sip:agent@example.com', from: '+15005550001', command_id: 'toneguard-dial-v3:caller' });
    expect(JSON.parse(Buffer.from(dial.body.client_state as string, 'base64').toString())).toEqual({ toneguard: 'agent', call: 'v3:caller' });
    // Never bridged: the dial asks for no bridge and no stream of the other leg.
    expect(dial.body).not.toHaveProperty('bridge_on_answer');
    expect(dial.body).not.toHaveProperty('link_to');
  });

  it('answers, then starts a bidirectional RTP stream of the leg itself with its token and parameters', async () => {
    await client.answer('v3:leg1');
    await client.startStreaming('v3:leg1', { streamUrl: 'wss://toneguard.test/media/telnyx?call=v3%3Aleg1', codec: 'PCMU', authToken: 'tok', parameters: { leg: 'caller', credential: 'c1' } });
    expect((await standIn.waitFor((c) => c.action === 'answer' && c.callControlId === 'v3:leg1')).body).toEqual({ command_id: 'toneguard-answer-v3:leg1' });
    const stream = await standIn.waitFor((c) => c.action === 'streaming_start' && c.callControlId === 'v3:leg1');
    expect(stream.body).toEqual({
      stream_url: 'wss://toneguard.test/media/telnyx?call=v3%3Aleg1',
      stream_track: 'inbound_track',
      stream_codec: 'PCMU',
      stream_bidirectional_mode: 'rtp',
      stream_bidirectional_codec: 'PCMU',
      stream_bidirectional_sampling_rate: 8000,
      stream_bidirectional_target_legs: 'self',
      stream_auth_token: 'tok',
      custom_parameters: [
        { name: 'leg', value: 'caller' },
        { name: 'credential', value: 'c1' },
      ],
      command_id: 'toneguard-stream-v3:leg1',
    });
  });

  it('L16 streams ask for 16 kHz', async () => {
    await client.startStreaming('v3:wide', { streamUrl: 'wss://x/media/telnyx?call=w', codec: 'L16', authToken: 't', parameters: {} });
    expect((await standIn.waitFor((c) => c.action === 'streaming_start' && c.callControlId === 'v3:wide')).body).toMatchObject({ stream_bidirectional_codec: 'L16', stream_bidirectional_sampling_rate: 16000 });
  });

  it('hangs up a leg', async () => {
    await client.hangup('v3:leg2');
    expect((await standIn.waitFor((c) => c.action === 'hangup' && c.callControlId === 'v3:leg2')).body).toEqual({ command_id: 'toneguard-hangup-v3:leg2' });
  });

  it('a refused command throws telnyx_api_error naming the action and status only', async () => {
    standIn.failNext(422);
    const err = await client.hangup('v3:gone').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'telnyx_api_error', status: 502, message: 'Telnyx Call Control hangup answered 422' });
  });

  it('an unreachable API throws the same error, without retrying a dial', async () => {
    const dead = createTelnyxCallControl({ apiKey: 'k', apiBaseUrl: 'http://127.0.0.1:9' }, 2000);
    await expect(dead.dial({ connectionId: 'c', to: 't', from: 'f', callerCallId: 'x' })).rejects.toMatchObject({ code: 'telnyx_api_error', message: 'Telnyx Call Control dial got no answer' });
  });
});
