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
import { isWav, parseWav } from '../media/wav.js';

/** `toneguard dsp detect|mask`: offline runs of the same DSP the media bridge uses per frame. */

interface AudioFile {
  encoding: AudioEncoding;
  /** Bytes before the samples (a WAV header) and after them (trailing WAV chunks); empty for raw files. */
  prefix: Uint8Array;
  suffix: Uint8Array;
  samples: Int16Array;
}

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

/** Checks the WAV's format against --encoding and finds its samples. */
function wavData(bytes: Uint8Array, encoding: AudioEncoding): { start: number; end: number } {
  const layout = parseWav(bytes);
  if ('error' in layout) throw usageError(layout.error);
  if (layout.encoding !== encoding) throw usageError(`WAV format is ${layout.encoding}, not --encoding ${encoding}`);
  if (layout.channels !== 1) throw usageError('WAV audio must be mono');
  if (layout.sampleRate !== 8000) throw usageError('WAV sample rate must be 8000');
  return { start: layout.dataStart, end: layout.dataEnd };
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
