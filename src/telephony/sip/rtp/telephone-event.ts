import type { Keypress } from '../../../capture/types.js';
import { tsDiff } from './packet.js';

/**
 * RFC 4733 telephone-events: one 4-byte block per event (event code, E bit, R bit, volume,
 * 16-bit duration in timestamp units). A packet may carry several blocks (RFC 4733 §2.5.1.5,
 * events that followed each other quickly): each starts where the one before it ended.
 */

export interface TelephoneEvent {
  code: number;
  end: boolean;
  volume: number;
  /** Timestamp units since the event's onset (cumulative). */
  duration: number;
  /** RTP timestamp of the event's onset (the packet's timestamp for the first block). */
  timestamp: number;
}

const BLOCK = 4;
/** Keypad events (RFC 4733 §3.2): 0–9, then * and #; A–D (12–15) and other codes are not keys. */
const KEYS: readonly Keypress[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#'];

export function keypressOf(code: number): Keypress | null {
  return KEYS[code] ?? null;
}

/** Null when the payload is not a whole number of event blocks (at least one). */
export function parseTelephoneEvents(payload: Uint8Array, timestamp: number): TelephoneEvent[] | null {
  if (payload.length === 0 || payload.length % BLOCK !== 0) return null;
  const events: TelephoneEvent[] = [];
  let onset = timestamp >>> 0;
  for (let at = 0; at < payload.length; at += BLOCK) {
    const duration = (payload[at + 2] << 8) | payload[at + 3];
    events.push({ code: payload[at], end: (payload[at + 1] & 0x80) !== 0, volume: payload[at + 1] & 0x3f, duration, timestamp: onset });
    onset = (onset + duration) >>> 0;
  }
  return events;
}

export function serializeTelephoneEvent(event: Omit<TelephoneEvent, 'timestamp'>): Uint8Array {
  const out = new Uint8Array(BLOCK);
  out[0] = event.code & 0xff;
  out[1] = (event.end ? 0x80 : 0) | (event.volume & 0x3f);
  out[2] = (event.duration >> 8) & 0xff;
  out[3] = event.duration & 0xff;
  return out;
}

/** How many recent onsets are remembered: well beyond the three end repeats and RFC 2198 depth. */
const REMEMBERED = 32;

interface Seen {
  ssrc: number;
  timestamp: number;
  code: number;
  /** Onset plus the longest duration reported so far. */
  endTs: number;
  ended: boolean;
}

/**
 * Counts each keypress once. An event is identified by (SSRC, onset timestamp); its updates, its
 * end packet sent three times and its copies inside RFC 2198 redundancy all share that key. A long
 * event split into segments (RFC 4733 §2.5.1.3) continues the previous unfinished event of the
 * same code at the timestamp where that one reached, so it is not a new keypress either.
 * Memory is a fixed ring of recent onsets.
 */
export class EventDeduplicator {
  private readonly seen: Seen[] = [];
  private next = 0;

  /** True when this block starts a new keypress. */
  accept(ssrc: number, event: TelephoneEvent): boolean {
    const known = this.find(ssrc, event.timestamp);
    if (known) {
      if (known.code === event.code) {
        known.endTs = later(known.endTs, (event.timestamp + event.duration) >>> 0);
        known.ended ||= event.end;
      }
      return false;
    }
    const continued = this.seen.find(
      (s) => s.ssrc === ssrc && s.code === event.code && !s.ended && s.endTs === event.timestamp,
    );
    this.remember({ ssrc, timestamp: event.timestamp, code: event.code, endTs: (event.timestamp + event.duration) >>> 0, ended: event.end });
    return continued === undefined;
  }

  private find(ssrc: number, timestamp: number): Seen | undefined {
    for (const s of this.seen) if (s.ssrc === ssrc && s.timestamp === timestamp) return s;
    return undefined;
  }

  private remember(entry: Seen): void {
    if (this.seen.length < REMEMBERED) this.seen.push(entry);
    else this.seen[this.next] = entry;
    this.next = (this.next + 1) % REMEMBERED;
  }
}

function later(a: number, b: number): number {
  return tsDiff(b, a) > 0 ? b : a;
}
