import { digitFrequencies, encodeAlaw, encodeMulaw, generateTone, type DtmfDigit } from '../../../src/dsp/index.js';
import { serializeRtp } from '../../../src/telephony/sip/rtp/packet.js';
import { serializeRed, type RedBlock } from '../../../src/telephony/sip/rtp/redundancy.js';
import { serializeTelephoneEvent } from '../../../src/telephony/sip/rtp/telephone-event.js';

/** A test sender of G.711 RTP and RFC 4733 events, packet by packet, as a phone would send them. */

export const PCMU = 0;
export const PCMA = 8;
export const TE = 101;
export const RED = 100;
const KEYPAD = '0123456789*#';

export type Step = { audio: Int16Array } | { key: number; ms: number };

export interface SentPacket {
  bytes: Buffer;
  /** When the sender would send it, in ms from the start. */
  atMs: number;
  kind: 'audio' | 'event';
}

export interface SessionOptions {
  ssrc?: number;
  sequence?: number;
  timestamp?: number;
  /** Event update interval (RFC 4733 §2.5.1.2; 50 ms is common). */
  updateMs?: number;
  /** Wrap events in RFC 2198 red with this many earlier event blocks. */
  redundancy?: number;
  codec?: 'pcmu' | 'pcma';
  /** Send each key's tone in the audio as well as the events (some phones do both). */
  withTone?: boolean;
}

export function rtpSession(steps: readonly Step[], options: SessionOptions = {}): SentPacket[] {
  const ssrc = options.ssrc ?? 0x1234abcd;
  let seq = options.sequence ?? 1000;
  let ts = options.timestamp ?? 50_000;
  let clockMs = 0;
  const updateMs = options.updateMs ?? 50;
  const out: SentPacket[] = [];
  const history: RedBlock[] = [];
  let marker = true;
  const push = (payloadType: number, payload: Uint8Array, timestamp: number, kind: SentPacket['kind'], m: boolean) => {
    out.push({ bytes: serializeRtp({ marker: m, payloadType, sequence: seq, timestamp, ssrc, payload }), atMs: clockMs, kind });
    seq = (seq + 1) & 0xffff;
  };
  const sendAudio = (audio: Int16Array) => {
    for (let at = 0; at < audio.length; at += 160) {
      const frame = audio.subarray(at, Math.min(audio.length, at + 160));
      const payload = new Uint8Array(frame.length);
      (options.codec === 'pcma' ? encodeAlaw : encodeMulaw)(frame, payload);
      push(options.codec === 'pcma' ? PCMA : PCMU, payload, ts, 'audio', marker);
      marker = false;
      ts = (ts + frame.length) >>> 0;
      clockMs += frame.length / 8;
    }
  };
  for (const step of steps) {
    if ('audio' in step) {
      sendAudio(step.audio);
      continue;
    }
    const total = step.ms * 8;
    const onset = ts;
    const sendEvent = (duration: number, end: boolean, first: boolean) => {
      const block = serializeTelephoneEvent({ code: step.key, end, volume: 10, duration });
      if (options.redundancy) {
        const blocks = [...history.slice(-options.redundancy), { payloadType: TE, timestamp: onset, data: block, primary: true }];
        push(RED, serializeRed(blocks, onset), onset, 'event', first);
        history.push({ payloadType: TE, timestamp: onset, data: block, primary: false });
      } else {
        push(TE, block, onset, 'event', first);
      }
    };
    const tone = new Int16Array(total);
    if (options.withTone) generateTone(tone, digitFrequencies(KEYPAD[step.key] as DtmfDigit), -8);
    /** Covers the event's time up to `until`: with the tone's audio, or with the clock alone. */
    const advance = (until: number) => {
      const from = (ts - onset) >>> 0;
      if (options.withTone) sendAudio(tone.subarray(from, until));
      else clockMs += (until - from) / 8;
      ts = (onset + until) >>> 0;
    };
    let duration = 0;
    let first = true;
    while (duration + updateMs * 8 < total) {
      duration += updateMs * 8;
      advance(duration);
      sendEvent(duration, false, first);
      first = false;
    }
    advance(total);
    for (let i = 0; i < 3; i++) {
      sendEvent(total, true, first && i === 0);
      if (i < 2) clockMs += updateMs / 5;
    }
  }
  return out;
}

/** An RTCP sender report with no report blocks. */
export function senderReport(ssrc: number): Buffer {
  const sr = Buffer.alloc(28);
  sr[0] = 0x80;
  sr[1] = 200;
  sr.writeUInt16BE(6, 2);
  sr.writeUInt32BE(ssrc, 4);
  return sr;
}

/** An RTCP receiver report from `ssrc` with one report block about `about`. */
export function receiverReport(ssrc: number, about: number): Buffer {
  const rr = Buffer.alloc(32);
  rr[0] = 0x81;
  rr[1] = 201;
  rr.writeUInt16BE(7, 2);
  rr.writeUInt32BE(ssrc, 4);
  rr.writeUInt32BE(about, 8);
  return rr;
}
