import { readFileSync, writeFileSync } from 'node:fs';
import { type ParsedArgs, numberFlag, stringFlag, usageError } from './args.js';
import {
  bytesPerSample,
  createDtmfDetector,
  createToneMasker,
  decode,
  encode,
  isAudioEncoding,
  MAX_LOOKAHEAD_MS,
  DEFAULT_LOOKAHEAD_MS,
  type AudioEncoding,
  type DigitEvent,
  type DigitListener,
} from '../dsp/index.js';

/** `toneguard dsp detect|mask`: offline runs of the same DSP the media bridge uses per frame. */

interface AudioFile {
  encoding: AudioEncoding;
  /** Bytes before the samples (a WAV header) and after them (trailing WAV chunks); empty for raw files. */
  prefix: Uint8Array;
  suffix: Uint8Array;
  samples: Int16Array;
}

const WAV_FORMAT: Record<number, AudioEncoding | undefined> = { 1: 'l16', 6: 'pcma', 7: 'pcmu' };
const FRAME = 160;

function readAudio(args: ParsedArgs): AudioFile {
  const path = stringFlag(args, 'in', true);
  const encodingName = stringFlag(args, 'encoding', true);
  if (!isAudioEncoding(encodingName)) throw usageError('--encoding must be pcmu, pcma or l16');
  const rate = numberFlag(args, 'rate', 8000);
  if (rate !== 8000) throw usageError('--rate must be 8000');
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch {
    throw usageError(`cannot read --in file ${path}`);
  }
  const { start, end } = isWav(bytes) ? wavData(bytes, encodingName) : { start: 0, end: bytes.length };
  const payload = bytes.subarray(start, end);
  if (payload.length % bytesPerSample(encodingName) !== 0) throw usageError('l16 audio must have an even number of bytes');
  const samples = new Int16Array(payload.length / bytesPerSample(encodingName));
  decode(encodingName, payload, samples);
  return { encoding: encodingName, prefix: bytes.subarray(0, start), suffix: bytes.subarray(end), samples };
}

function isWav(bytes: Uint8Array): boolean {
  return bytes.length >= 12 && ascii(bytes, 0) === 'RIFF' && ascii(bytes, 8) === 'WAVE';
}

function ascii(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
}

/** Checks the fmt chunk against --encoding and finds the data chunk. */
function wavData(bytes: Uint8Array, encoding: AudioEncoding): { start: number; end: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let format: AudioEncoding | undefined;
  for (let at = 12; at + 8 <= bytes.length; ) {
    const id = ascii(bytes, at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ' && body + 16 <= bytes.length) {
      format = WAV_FORMAT[view.getUint16(body, true)];
      const channels = view.getUint16(body + 2, true);
      const rate = view.getUint32(body + 4, true);
      const bits = view.getUint16(body + 14, true);
      if (format === undefined || (format === 'l16' && bits !== 16)) throw usageError('WAV format is not μ-law, A-law or 16-bit PCM');
      if (format !== encoding) throw usageError(`WAV format is ${format}, not --encoding ${encoding}`);
      if (channels !== 1) throw usageError('WAV audio must be mono');
      if (rate !== 8000) throw usageError('WAV sample rate must be 8000');
    }
    if (id === 'data') {
      if (format === undefined) throw usageError('WAV data chunk before fmt chunk');
      return { start: body, end: Math.min(bytes.length, body + size) };
    }
    at = body + size + (size & 1);
  }
  throw usageError('WAV file has no data chunk');
}

function collector(): { listener: DigitListener; events: DigitEvent[] } {
  const events: DigitEvent[] = [];
  return { listener: { digitEnd: (event) => events.push(event) }, events };
}

function summary(events: DigitEvent[]): { digits: string; events: { digit: string; startMs: number; endMs: number }[] } {
  return {
    digits: events.map((e) => e.digit).join(''),
    events: events.map((e) => ({ digit: e.digit, startMs: Math.round(e.startSample / 8), endMs: Math.round(e.endSample / 8) })),
  };
}

export async function dspDetectCommand(args: ParsedArgs): Promise<number> {
  const audio = readAudio(args);
  const { listener, events } = collector();
  const detector = createDtmfDetector(listener);
  for (let at = 0; at < audio.samples.length; at += FRAME) detector.process(audio.samples.subarray(at, at + FRAME));
  detector.flush();
  process.stdout.write(`${JSON.stringify(summary(events))}\n`);
  return 0;
}

export async function dspMaskCommand(args: ParsedArgs): Promise<number> {
  const audio = readAudio(args);
  const out = stringFlag(args, 'out', true);
  const lookaheadMs = numberFlag(args, 'lookahead-ms', DEFAULT_LOOKAHEAD_MS);
  if (!(lookaheadMs >= 0 && lookaheadMs <= MAX_LOOKAHEAD_MS)) throw usageError(`--lookahead-ms must be 0–${MAX_LOOKAHEAD_MS}`);
  const { listener, events } = collector();
  const masker = createToneMasker({ lookaheadMs }, listener);
  const masked = new Int16Array(audio.samples.length);
  for (let at = 0; at < masked.length; at += FRAME) {
    masker.process(audio.samples.subarray(at, at + FRAME), masked.subarray(at, at + FRAME));
  }
  masker.flush();
  const encoded = new Uint8Array(masked.length * bytesPerSample(audio.encoding));
  encode(audio.encoding, masked, encoded);
  try {
    writeFileSync(out, Buffer.concat([audio.prefix, encoded, audio.suffix]));
  } catch {
    throw usageError(`cannot write --out file ${out}`);
  }
  const maskedMs = Math.round(masker.stats.maskedSamples / 8);
  process.stdout.write(`${JSON.stringify({ ...summary(events), lookaheadMs, maskedMs })}\n`);
  return 0;
}
