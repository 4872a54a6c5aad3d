import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTwilioMessage, twilioClearMessage, twilioMediaMessage } from '../../../src/telephony/twilio/media-messages.js';

const REASONS = new Set(['invalid_json', 'invalid_message', 'unknown_event']);
const KINDS = new Set(['connected', 'start', 'audio', 'dtmf', 'mark', 'stop']);
const CALL = 'CA' + 'a'.repeat(32);
const STREAM = 'MZ' + 'b'.repeat(32);

function checkShape(text: string): void {
  const result = parseTwilioMessage(text);
  if (result.ok) expect(KINDS.has(result.event.kind)).toBe(true);
  else expect(REASONS.has(result.reason)).toBe(true);
}

const twilioLike = fc.record({
  event: fc.constantFrom('connected', 'start', 'media', 'dtmf', 'mark', 'stop', 'other'),
  sequenceNumber: fc.oneof(fc.string(), fc.integer()),
  streamSid: fc.oneof(fc.constant(STREAM), fc.string()),
  start: fc.anything(),
  media: fc.oneof(fc.record({ payload: fc.oneof(fc.base64String(), fc.string()), timestamp: fc.string() }), fc.anything()),
  dtmf: fc.oneof(fc.record({ digit: fc.string({ maxLength: 2 }) }), fc.anything()),
  mark: fc.anything(),
});

describe('the Twilio media message parser', () => {
  it('never throws on any text, and answers an event or a reason code', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (text) => checkShape(text)), { numRuns: 2000 });
  });

  it('never throws on any JSON value or Twilio-shaped object', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => checkShape(JSON.stringify(value))), { numRuns: 1000 });
    fc.assert(fc.property(twilioLike, (value) => checkShape(JSON.stringify(value))), { numRuns: 2000 });
  });

  it('parses the documented messages, numbers arriving as strings', () => {
    const start = parseTwilioMessage(
      JSON.stringify({
        event: 'start',
        sequenceNumber: '1',
        start: {
          accountSid: 'AC' + '0'.repeat(32),
          streamSid: STREAM,
          callSid: CALL,
          tracks: ['inbound'],
          mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
          customParameters: { leg: 'caller', session: 's' },
        },
        streamSid: STREAM,
      }),
    );
    expect(start).toEqual({ ok: true, event: { kind: 'start', start: { callSid: CALL, streamSid: STREAM, parameters: { leg: 'caller', session: 's' } } } });
    expect(parseTwilioMessage(JSON.stringify({ event: 'media', sequenceNumber: '4', media: { track: 'inbound', chunk: '2', timestamp: '5', payload: '/w==' }, streamSid: STREAM }))).toEqual({
      ok: true,
      event: { kind: 'audio', payload: '/w==' },
    });
    expect(parseTwilioMessage(JSON.stringify({ event: 'dtmf', streamSid: STREAM, sequenceNumber: '5', dtmf: { track: 'inbound_track', digit: '#' } }))).toEqual({
      ok: true,
      event: { kind: 'dtmf', key: '#' },
    });
    expect(parseTwilioMessage('{"event":"mark","sequenceNumber":"6","streamSid":"x","mark":{"name":"m1"}}')).toEqual({ ok: true, event: { kind: 'mark', name: 'm1' } });
    expect(parseTwilioMessage('{"event":"stop","sequenceNumber":"7","stop":{}}')).toEqual({ ok: true, event: { kind: 'stop' } });
    expect(parseTwilioMessage('{"event":"connected","protocol":"Call","version":"1.0.0"}')).toEqual({ ok: true, event: { kind: 'connected' } });
  });

  it('gives reason codes for the bad ones', () => {
    expect(parseTwilioMessage('{oops')).toEqual({ ok: false, reason: 'invalid_json' });
    expect(parseTwilioMessage('[1]')).toEqual({ ok: false, reason: 'invalid_message' });
    expect(parseTwilioMessage('{"event":"party"}')).toEqual({ ok: false, reason: 'unknown_event' });
    expect(parseTwilioMessage('{"event":"dtmf","dtmf":{"digit":"E"}}')).toEqual({ ok: false, reason: 'invalid_message' });
    expect(parseTwilioMessage('{"event":"start","streamSid":"MZ1","start":{"callSid":"CA1"}}')).toEqual({ ok: false, reason: 'invalid_message' });
  });

  it('builds outbound media and clear messages Twilio accepts', () => {
    expect(JSON.parse(twilioMediaMessage(STREAM, '/w=='))).toEqual({ event: 'media', streamSid: STREAM, media: { payload: '/w==' } });
    expect(JSON.parse(twilioClearMessage(STREAM))).toEqual({ event: 'clear', streamSid: STREAM });
  });
});
