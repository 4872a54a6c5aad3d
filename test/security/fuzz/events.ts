import fc from 'fast-check';
import { WebSocket } from 'ws';
import { EVENTS_PATH, EVENTS_SUBPROTOCOL } from '../../../src/agent/index.js';
import { flipBit } from './agent-api.js';
import { playFrames, type SocketFrame, type SocketOutcome } from './socket.js';
import { hostileText } from './values.js';

/** How the fuzz socket presents itself: a valid bearer subprotocol, a tampered one, or none (first-message auth). */
export type EventsOpening = 'valid' | 'tampered' | 'none';
export const eventsOpening: fc.Arbitrary<EventsOpening> = fc.constantFrom('valid', 'tampered', 'none');

const text = (arbitrary: fc.Arbitrary<string>) => arbitrary.map((t): SocketFrame => ({ kind: 'text', text: t }));

/** Client messages: well-formed pings and auths with hostile tokens, near-misses, random JSON, text and binary. */
export const eventsMessage: fc.Arbitrary<SocketFrame> = fc.oneof(
  text(fc.constant('{"type":"ping"}')),
  text(hostileText.map((token) => JSON.stringify({ type: 'auth', token }))),
  text(fc.record({ type: fc.constantFrom('auth', 'ping', 'subscribe', 'capture'), extra: fc.jsonValue() }).map((v) => JSON.stringify(v))),
  text(fc.json()),
  text(hostileText),
  fc.uint8Array({ maxLength: 2_000 }).map((bytes): SocketFrame => ({ kind: 'binary', bytes })),
);

/** The subprotocols a socket offers for `opening`, given a valid dev token and fuzzed bit-flip coordinates. */
export function eventsProtocols(opening: EventsOpening, token: string, flip: [number, number, number]): string[] {
  if (opening === 'none') return [EVENTS_SUBPROTOCOL];
  return [EVENTS_SUBPROTOCOL, `bearer.${opening === 'valid' ? token : flipBit(token, ...flip)}`];
}

/** Opens `/v1/events` offering `protocols` and plays `messages` on it. */
export function playEventsSocket(baseUrl: string, protocols: string[], messages: SocketFrame[]): Promise<SocketOutcome> {
  return playFrames(new WebSocket(baseUrl.replace(/^http/, 'ws') + EVENTS_PATH, protocols), messages);
}
