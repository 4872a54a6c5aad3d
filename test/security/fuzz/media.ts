import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { WebSocket } from 'ws';
import { signTwilio, type TwilioTarget } from '../../helpers/twilio.js';
import { playFrames, type SocketFrame, type SocketOutcome } from './socket.js';
import { hostileText, unknownSid } from './values.js';

/** Hand-picked malformed Media Streams messages: a parser's classic traps. */
export const MEDIA_GARBAGE = [
  '{not json',
  '{"event":"party"}',
  '{"event":"media","media":{"payload":"***not base64***"}}',
  `{"event":"media","media":{"payload":"${Buffer.alloc(4000).toString('base64')}"}}`,
  '{"event":"media","media":{"payload":""}}',
  '{"event":"dtmf","dtmf":{"digit":"Z"}}',
  '[]',
  'null',
];

export type MediaFrame = SocketFrame;

const streamSid = fc.oneof(unknownSid('MZ'), hostileText);
/** Sequence numbers out of order, repeated, negative, or not numbers at all. */
const sequenceNumber = fc.oneof(fc.nat().map(String), fc.integer(), hostileText);
const payload = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 1600 }).map((bytes) => Buffer.from(bytes).toString('base64')),
  fc.uint8Array({ minLength: 1601, maxLength: 40_000 }).map((bytes) => Buffer.from(bytes).toString('base64')),
  fc.base64String({ maxLength: 400 }),
  hostileText,
);
const mediaFormat = fc.oneof(fc.constant({ encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }), fc.record({ encoding: hostileText, sampleRate: fc.integer(), channels: fc.integer() }));

/** Messages shaped like Twilio's, each with something wrong or unexpected inside. */
const twilioShaped: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({ event: fc.constant('connected'), protocol: hostileText, version: hostileText }),
  fc.record({
    event: fc.constant('start'),
    sequenceNumber,
    streamSid,
    start: fc.record({
      callSid: fc.oneof(unknownSid('CA'), hostileText),
      streamSid,
      tracks: fc.array(hostileText, { maxLength: 5 }),
      mediaFormat,
      customParameters: fc.dictionary(fc.constantFrom('leg', 'credential', 'agent', 'x'), fc.oneof(fc.constantFrom('caller', 'agent'), fc.uuid(), hostileText)),
    }),
  }),
  fc.record({ event: fc.constant('media'), sequenceNumber, streamSid, media: fc.record({ track: hostileText, chunk: sequenceNumber, timestamp: sequenceNumber, payload }) }),
  fc.record({ event: fc.constant('dtmf'), sequenceNumber, streamSid, dtmf: fc.record({ track: hostileText, digit: fc.oneof(fc.constantFrom(...'0123456789*#'), hostileText) }) }),
  fc.record({ event: fc.constant('mark'), sequenceNumber, streamSid, mark: fc.record({ name: hostileText }) }),
  fc.record({ event: fc.constant('stop'), sequenceNumber, streamSid, stop: fc.record({ callSid: unknownSid('CA') }) }),
);

export const mediaFrame: fc.Arbitrary<MediaFrame> = fc.oneof(
  { weight: 5, arbitrary: twilioShaped.map((message) => ({ kind: 'text' as const, text: JSON.stringify(message) })) },
  { weight: 2, arbitrary: fc.json().map((text) => ({ kind: 'text' as const, text })) },
  { weight: 2, arbitrary: hostileText.map((text) => ({ kind: 'text' as const, text })) },
  { weight: 1, arbitrary: fc.constantFrom(...MEDIA_GARBAGE).map((text) => ({ kind: 'text' as const, text })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2000 }).map((bytes) => ({ kind: 'binary' as const, bytes })) },
  // Over the 64 KiB frame limit: the server must close with 1009, not buffer it.
  { weight: 1, arbitrary: fc.integer({ min: 70_000, max: 100_000 }).map((n) => ({ kind: 'text' as const, text: 'x'.repeat(n) })) },
);

/** How a fuzz stream starts: no `start` at all, a call of its own, or someone else's call. */
export type StreamOpening = 'none' | 'own-call' | 'hijack-caller' | 'hijack-agent' | 'healthy-sid-forged-credential';
export const streamOpening: fc.Arbitrary<StreamOpening> = fc.constantFrom('none', 'own-call', 'own-call', 'hijack-caller', 'hijack-agent', 'healthy-sid-forged-credential');

/** A well-formed stream credential (expiry, nonce, MAC) that Toneguard never issued. */
export function forgedCredential(): string {
  return `${(Date.now() + 60_000).toString(36)}.${randomBytes(16).toString('base64url')}.${randomBytes(32).toString('base64url')}`;
}

/** A valid `start` message for a call leg. */
export function startMessage(callSid: string, parameters: Record<string, string>): MediaFrame {
  const sid = `MZ${'0'.repeat(32)}`;
  const start = { callSid, streamSid: sid, tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }, customParameters: parameters };
  return { kind: 'text', text: JSON.stringify({ event: 'start', sequenceNumber: '1', streamSid: sid, start }) };
}

/** Opens a correctly signed `/media/twilio` socket (or `upgrade.path` with `upgrade.headers`: another platform's) and plays `frames` on it. */
export function playFuzzStream(target: TwilioTarget, frames: MediaFrame[], upgrade?: { path: string; headers: Record<string, string> }): Promise<SocketOutcome> {
  const path = upgrade?.path ?? '/media/twilio';
  const headers = upgrade?.headers ?? { 'x-twilio-signature': signTwilio(target.authToken, target.publicUrl.replace(/^http/, 'ws') + path, {}) };
  return playFrames(new WebSocket(target.baseUrl.replace(/^http/, 'ws') + path, { headers }), frames);
}
