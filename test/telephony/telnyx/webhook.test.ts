import { describe, expect, it } from 'vitest';
import { telnyxEvent } from '../../../src/simulator/telnyx/webhooks.js';
import { TelnyxStreamTokens, telnyxStreamUrl } from '../../../src/telephony/telnyx/stream-token.js';
import { encodeClientState, parseTelnyxWebhook } from '../../../src/telephony/telnyx/webhook.js';

describe('Telnyx Call Control webhooks', () => {
  it('reads the event type, the call control id, direction, numbers and our client_state', () => {
    const body = JSON.stringify(telnyxEvent('call.initiated', { call_control_id: 'v3:abc-_1', from: '+15005550006', to: '+15005550001', direction: 'incoming', client_state: encodeClientState({ call: 'v3:x' }) }));
    expect(parseTelnyxWebhook(body)).toEqual({ eventType: 'call.initiated', callControlId: 'v3:abc-_1', direction: 'incoming', from: '+15005550006', to: '+15005550001', clientState: { call: 'v3:x' } });
  });

  it('a client_state that is not ours is simply absent', () => {
    const body = JSON.stringify(telnyxEvent('call.answered', { call_control_id: 'v3:a', client_state: 'aGF2ZSBhIG5pY2UgZGF5ID1d' }));
    expect(parseTelnyxWebhook(body)?.clientState).toBeUndefined();
  });

  it('refuses bodies that are not call events', () => {
    expect(parseTelnyxWebhook('{')).toBeNull();
    expect(parseTelnyxWebhook('{"data":{}}')).toBeNull();
    expect(parseTelnyxWebhook(JSON.stringify(telnyxEvent('call.hangup', { call_control_id: 'v3:<script>' })))).toBeNull();
  });
});

describe('Telnyx stream upgrade tokens', () => {
  it('admit only the leg they were made for, from this process', () => {
    const tokens = new TelnyxStreamTokens();
    const token = tokens.tokenFor('v3:leg');
    expect(tokens.verify('v3:leg', token)).toBe(true);
    expect(tokens.verify('v3:other', token)).toBe(false);
    expect(tokens.verify('v3:leg', undefined)).toBe(false);
    expect(tokens.verify(undefined, token)).toBe(false);
    expect(tokens.verify('v3:leg', token.slice(1))).toBe(false);
    expect(new TelnyxStreamTokens().verify('v3:leg', token)).toBe(false);
  });

  it('the stream URL names the leg on the public wss address', () => {
    expect(telnyxStreamUrl('https://toneguard.example.com/', '/media/telnyx', 'v3:a/b')).toBe('wss://toneguard.example.com/media/telnyx?call=v3%3Aa%2Fb');
  });
});
