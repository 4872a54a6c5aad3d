import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeMulaw } from '../../../src/dsp/g711.js';
import { concat, digitTone, silence, toInt16 } from '../../../src/dsp/signals.js';
import type { DtmfDigit } from '../../../src/dsp/types.js';
import { speech } from '../../dsp/tools.js';
import { readPcapDatagrams, writePcap, type TimedDatagram } from './pcap.js';
import { PT_PCMU, decodeRtp, encodeRtp } from './rtp.js';

/** What the callers play: speech, then keypad tones, as G.711 RTP in 20 ms packets. */

export const PACKET_MS = 20;
const SAMPLES_PER_PACKET = 160;

export interface CallerAudio {
  samples: Int16Array;
  /** Where the first tone starts, in ms from the start of the stream. */
  tonesAtMs: number;
  durationMs: number;
}

/**
 * Speech (espeak-ng), a quiet pause of `pauseMs` (still streamed, as a phone does), then each digit
 * as a 100 ms tone at −10 dBm0 with 100 ms gaps: comfortably inside Q.24, so any decoder that
 * hears them decodes them.
 */
export function speechThenTones(digits: string, options: { text?: string; pauseMs?: number } = {}): CallerAudio {
  const spoken = speech('en-us', options.text ?? 'Hello, I would like to pay my bill please.');
  const lead = Float64Array.from(spoken);
  const pause = silence(options.pauseMs ?? 500);
  const tones = [...digits].flatMap((d) => [digitTone(d as DtmfDigit, 100), silence(100)]);
  const signal = concat(lead, pause, ...tones, silence(300));
  const samples = toInt16(signal);
  return { samples, tonesAtMs: ((lead.length + pause.length) * 1000) / 8000, durationMs: (samples.length * 1000) / 8000 };
}

/** Silence of `ms` as μ-law, for load (bench) callers and the agent's side. */
export function silentAudio(ms: number): Int16Array {
  return new Int16Array(Math.round((ms * 8000) / 1000));
}

/** μ-law RTP packets of `samples` every 20 ms (the last partial packet dropped). */
export function pcmuPackets(samples: Int16Array, ssrc: number, firstSequence = 1000, firstTimestamp = 16000): TimedDatagram[] {
  const out: TimedDatagram[] = [];
  for (let i = 0; (i + 1) * SAMPLES_PER_PACKET <= samples.length; i++) {
    const payload = new Uint8Array(SAMPLES_PER_PACKET);
    encodeMulaw(samples.subarray(i * SAMPLES_PER_PACKET, (i + 1) * SAMPLES_PER_PACKET), payload);
    const packet = encodeRtp({
      payloadType: PT_PCMU,
      marker: i === 0,
      sequence: firstSequence + i,
      timestamp: firstTimestamp + i * SAMPLES_PER_PACKET,
      ssrc,
      payload: Buffer.from(payload),
    });
    out.push({ atMs: i * PACKET_MS, payload: packet });
  }
  return out;
}

export function writeAudioPcap(path: string, samples: Int16Array, ssrc: number): number {
  const packets = pcmuPackets(samples, ssrc);
  writePcap(path, packets);
  return packets.length;
}

const RFC2833_DIRS = ['/usr/share/sip-tester', '/usr/share/sipp', '/usr/share/doc/sip-tester/pcap'];
const NAMES: Record<string, string> = { '*': 'star', '#': 'pound' };

/**
 * SIPp's shipped RFC 2833 capture of one keypress (`dtmf_2833_<digit>.pcap`: PT 101, seven
 * updates and three end packets). Digits 1–9, * and # come from one stream with increasing
 * timestamps, so playing them in that order makes distinct events.
 */
export function shippedRfc2833Pcap(digit: string): string {
  const file = `dtmf_2833_${NAMES[digit] ?? digit}.pcap`;
  const found = RFC2833_DIRS.map((d) => join(d, file)).find((p) => existsSync(p));
  if (!found) throw new Error(`${file} not found under ${RFC2833_DIRS.join(', ')} (install Debian sip-tester)`);
  return found;
}

/** Packets in each shipped RFC 2833 pcap (7 updates + 3 end packets). */
export const RFC2833_PACKETS_PER_DIGIT = 10;

/**
 * A phone's stream that keys `digits` as RFC 4733 events: 20 ms μ-law silence, and for each digit
 * the payloads of SIPp's shipped capture of that key (updates, then the end packet three times)
 * at their recorded pace, `gapMs` apart. One SSRC, continuous sequence numbers, and each event's
 * RTP timestamp is the time its key went down, so repeated digits are distinct events (the
 * shipped files, cut from one call, would repeat a timestamp).
 */
export function rfc4733Stream(digits: string, options: { ssrc: number; leadMs?: number; gapMs?: number }): { packets: TimedDatagram[]; durationMs: number; eventPackets: number } {
  const packets: TimedDatagram[] = [];
  let sequence = 3000;
  let timestamp = 80000;
  let atMs = 0;
  let eventPackets = 0;
  const silenceFor = (ms: number): void => {
    for (let t = 0; t < ms; t += PACKET_MS) {
      packets.push({ atMs, payload: encodeRtp({ payloadType: PT_PCMU, marker: false, sequence: sequence++, timestamp, ssrc: options.ssrc, payload: Buffer.alloc(SAMPLES_PER_PACKET, 0xff) }) });
      atMs += PACKET_MS;
      timestamp += SAMPLES_PER_PACKET;
    }
  };
  silenceFor(options.leadMs ?? 400);
  for (const digit of digits) {
    const key = readPcapDatagrams(readFileSync(shippedRfc2833Pcap(digit)));
    let last = 0;
    key.forEach((d, i) => {
      const original = decodeRtp(d.payload);
      if (!original) throw new Error(`not RTP in ${shippedRfc2833Pcap(digit)}`);
      packets.push({ atMs: atMs + d.atMs, payload: encodeRtp({ ...original, marker: i === 0, sequence: sequence++, timestamp, ssrc: options.ssrc }) });
      last = d.atMs;
      eventPackets++;
    });
    // The media clock follows the wall clock (the shipped durations run ahead of their packets' pace).
    atMs += last + PACKET_MS;
    timestamp += ((last + PACKET_MS) * 8000) / 1000;
    silenceFor(options.gapMs ?? 300);
  }
  return { packets, durationMs: atMs, eventPackets };
}
