import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { encode, type AudioEncoding, type DtmfDigit } from '../../src/dsp/index.js';
import { wavHeader } from '../../src/media/wav.js';
import { addNoise, concat, digitTone, silence, toInt16 } from '../dsp/signals.js';

/** Generated recordings with keyed digits at known times, for the scan tests and the scan benchmark. */

export interface KeyedEntry {
  /** Silence before this entry's first key, ms. */
  pauseMs: number;
  digits: string;
}

export interface KeyedChannel {
  samples: Int16Array;
  /** Per entry: first tone's start and last tone's end, ms. */
  spans: { startMs: number; endMs: number }[];
}

const TONE_MS = 70;
const GAP_MS = 80;

/** Keys each entry after its pause (70 ms tones, 80 ms gaps, levels and phases varied), over faint line noise. */
export function keyedChannel(entries: readonly KeyedEntry[], options: { sampleRate?: number; tailMs?: number; seed?: number } = {}): KeyedChannel {
  const sampleRate = options.sampleRate ?? 8000;
  const parts: Float64Array[] = [];
  const spans: { startMs: number; endMs: number }[] = [];
  let atMs = 0;
  let k = 0;
  for (const entry of entries) {
    parts.push(silence(entry.pauseMs, sampleRate));
    atMs += entry.pauseMs;
    const startMs = atMs;
    [...entry.digits].forEach((d, i) => {
      if (i > 0) {
        parts.push(silence(GAP_MS, sampleRate));
        atMs += GAP_MS;
      }
      parts.push(digitTone(d as DtmfDigit, TONE_MS, { levelDbm0: -6 - (k % 12), phase: k * 0.7, sampleRate }));
      atMs += TONE_MS;
      k++;
    });
    spans.push({ startMs, endMs: atMs });
  }
  parts.push(silence(options.tailMs ?? 500, sampleRate));
  return { samples: toInt16(addNoise(concat(...parts), -60, options.seed ?? 7)), spans };
}

/** A 16-bit PCM WAV of the channels (padded to the longest), interleaved. */
export function wavFile(sampleRate: number, channels: readonly Int16Array[]): Buffer {
  const frames = Math.max(...channels.map((c) => c.length));
  const data = Buffer.alloc(frames * channels.length * 2);
  for (let i = 0; i < frames; i++) channels.forEach((c, ch) => data.writeInt16LE(c[i] ?? 0, (i * channels.length + ch) * 2));
  return Buffer.concat([wavHeader(sampleRate, channels.length, data.length), data]);
}

/** Headerless audio in `encoding`. */
export function rawFile(encoding: AudioEncoding, samples: Int16Array): Buffer {
  const out = Buffer.alloc(samples.length * (encoding === 'l16' ? 2 : 1));
  encode(encoding, samples, out);
  return out;
}

export function writeFileIn(path: string, bytes: Uint8Array): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  return path;
}
