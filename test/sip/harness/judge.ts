import { decodeMulaw } from '../../../src/dsp/g711.js';
import { spandspDigits } from '../../dsp/judges.js';
import { multimonDigits } from '../../dsp/tools.js';
import { PT_PCMU, PT_TELEPHONE_EVENT, type RtpPacket } from './rtp.js';
import type { ReceivedStream } from './sink.js';

/**
 * What the agent heard, judged by independent means: multimon-ng and spandsp's DTMF receiver
 * (test/dsp/judges.ts) for tones, a packet count for events.
 */

const MAX_SECONDS = 120;

/**
 * The μ-law audio of a stream laid out by RTP timestamp, as a receiver's playout would: a
 * missing packet is silence, a duplicate overwrites the same place.
 */
export function playout(packets: readonly RtpPacket[]): Int16Array {
  const audio = packets.filter((p) => p.payloadType === PT_PCMU);
  if (audio.length === 0) return new Int16Array(0);
  const first = audio[0].timestamp;
  const offsets = audio.map((p) => (p.timestamp - first) | 0);
  const start = Math.min(...offsets);
  const end = Math.max(...audio.map((p, i) => offsets[i] + p.payload.length));
  const out = new Int16Array(Math.min(end - start, MAX_SECONDS * 8000));
  const frame = new Int16Array(2048);
  audio.forEach((p, i) => {
    const at = offsets[i] - start;
    if (at < 0 || at + p.payload.length > out.length) return;
    const samples = frame.subarray(0, p.payload.length);
    decodeMulaw(p.payload, samples);
    out.set(samples, at);
  });
  return out;
}

export interface Verdict {
  source: string;
  packets: number;
  /** Digits multimon-ng decodes from the stream's audio. */
  digits: string;
  /** Digits spandsp's DTMF receiver decodes from it. */
  spandspDigits: string;
  /** RFC 4733 telephone-event packets that reached the agent. */
  telephoneEvents: number;
  /** Distinct events among them (by SSRC and RTP timestamp). */
  distinctEvents: number;
  /** Packets whose sequence number did not follow the previous one (gaps or reordering). */
  sequenceBreaks: number;
  /** Consecutive packets whose RTP timestamps are not 160 samples (20 ms) per sequence step apart. */
  timestampBreaks: number;
}

export function judge(stream: ReceivedStream): Verdict {
  const events = stream.packets.filter((p) => p.payloadType === PT_TELEPHONE_EVENT);
  let breaks = 0;
  let timestampBreaks = 0;
  for (let i = 1; i < stream.packets.length; i++) {
    const step = (stream.packets[i].sequence - stream.packets[i - 1].sequence) & 0xffff;
    if (step !== 1) breaks++;
    if (((stream.packets[i].timestamp - stream.packets[i - 1].timestamp) >>> 0) !== (160 * step) >>> 0) timestampBreaks++;
  }
  const audio = playout(stream.packets);
  return {
    source: stream.source,
    packets: stream.packets.length,
    digits: multimonDigits(audio),
    spandspDigits: spandspDigits(audio),
    telephoneEvents: events.length,
    distinctEvents: new Set(events.map((p) => `${p.ssrc}/${p.timestamp}`)).size,
    sequenceBreaks: breaks,
    timestampBreaks,
  };
}

/** The RFC 4733 event codes (0–15 as 0–9, *, #, A–D) of the distinct events in a stream. */
export function eventDigits(packets: readonly RtpPacket[]): string {
  const seen = new Set<string>();
  let out = '';
  for (const p of packets) {
    if (p.payloadType !== PT_TELEPHONE_EVENT || p.payload.length < 4) continue;
    const key = `${p.ssrc}/${p.timestamp}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out += '0123456789*#ABCD'[p.payload[0]] ?? '?';
  }
  return out;
}
