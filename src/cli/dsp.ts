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
  type SampleRate,
} from '../dsp/index.js';
import { isWav, parseWav } from '../media/wav.js';

/** `toneguard dsp detect|mask`: offline runs of the same DSP the media bridge uses per frame. */

interface AudioFile {
  encoding: AudioEncoding;
  sampleRate: SampleRate;
  /** Bytes before the samples (a WAV header) and after them (trailing WAV chunks); empty for raw files. */
  prefix: Uint8Array;
  suffix: Uint8Array;
  samples: Int16Array;
}

/** 20 ms frames at the file's rate, as the media path carries them. */
const frameOf = (sampleRate: SampleRate): number => sampleRate / 50;

/** G.711 is 8 kHz by definition; L16 streams come at 8 or 16 kHz. */
function checkRate(encoding: AudioEncoding, rate: number, what: string): SampleRate {
  if (encoding === 'l16' ? rate === 8000 || rate === 16000 : rate === 8000) return rate as SampleRate;
  throw usageError(encoding === 'l16' ? `${what} must be 8000 or 16000 for l16` : `${what} must be 8000 for ${encoding} (l16 also takes 16000)`);
}

function readAudio(args: ParsedArgs): AudioFile {
  const path = stringFlag(args, 'in', true);
  const encodingName = stringFlag(args, 'encoding', true);
  if (!isAudioEncoding(encodingName)) throw usageError('--encoding must be pcmu, pcma or l16');
  const givenRate = args.flags.has('rate') ? checkRate(encodingName, numberFlag(args, 'rate', 8000), '--rate') : undefined;
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch {
    throw usageError(`cannot read --in file ${path}`);
  }
  const { start, end, sampleRate } = isWav(bytes) ? wavData(bytes, encodingName, givenRate) : { start: 0, end: bytes.length, sampleRate: givenRate ?? 8000 };
  const payload = bytes.subarray(start, end);
  if (payload.length % bytesPerSample(encodingName) !== 0) throw usageError('l16 audio must have an even number of bytes');
  const samples = new Int16Array(payload.length / bytesPerSample(encodingName));
  decode(encodingName, payload, samples);
  return { encoding: encodingName, sampleRate, prefix: bytes.subarray(0, start), suffix: bytes.subarray(end), samples };
}

/** Checks the WAV's format against --encoding (and --rate, when given) and finds its samples. */
function wavData(bytes: Uint8Array, encoding: AudioEncoding, givenRate: SampleRate | undefined): { start: number; end: number; sampleRate: SampleRate } {
  const layout = parseWav(bytes);
  if ('error' in layout) throw usageError(layout.error);
  if (layout.encoding !== encoding) throw usageError(`WAV format is ${layout.encoding}, not --encoding ${encoding}`);
  if (layout.channels !== 1) throw usageError('WAV audio must be mono');
  const sampleRate = checkRate(encoding, layout.sampleRate, 'WAV sample rate');
  if (givenRate !== undefined && givenRate !== sampleRate) throw usageError(`WAV sample rate is ${sampleRate}, not --rate ${givenRate}`);
  return { start: layout.dataStart, end: layout.dataEnd, sampleRate };
}

function collector(): { listener: DigitListener; events: DigitEvent[] } {
  const events: DigitEvent[] = [];
  return { listener: { digitEnd: (event) => events.push(event) }, events };
}

function summary(events: DigitEvent[], sampleRate: SampleRate): { digits: string; events: { digit: string; startMs: number; endMs: number }[] } {
  const perMs = sampleRate / 1000;
  return {
    digits: events.map((e) => e.digit).join(''),
    events: events.map((e) => ({ digit: e.digit, startMs: Math.round(e.startSample / perMs), endMs: Math.round(e.endSample / perMs) })),
  };
}

export async function dspDetectCommand(args: ParsedArgs): Promise<number> {
  const audio = readAudio(args);
  const { listener, events } = collector();
  const detector = createDtmfDetector(listener, { sampleRate: audio.sampleRate });
  const frame = frameOf(audio.sampleRate);
  for (let at = 0; at < audio.samples.length; at += frame) detector.process(audio.samples.subarray(at, at + frame));
  detector.flush();
  process.stdout.write(`${JSON.stringify(summary(events, audio.sampleRate))}\n`);
  return 0;
}

export async function dspMaskCommand(args: ParsedArgs): Promise<number> {
  const audio = readAudio(args);
  const out = stringFlag(args, 'out', true);
  const lookaheadMs = numberFlag(args, 'lookahead-ms', DEFAULT_LOOKAHEAD_MS);
  if (!(lookaheadMs >= 0 && lookaheadMs <= MAX_LOOKAHEAD_MS)) throw usageError(`--lookahead-ms must be 0–${MAX_LOOKAHEAD_MS}`);
  const { listener, events } = collector();
  const masker = createToneMasker({ lookaheadMs, sampleRate: audio.sampleRate }, listener);
  const masked = new Int16Array(audio.samples.length);
  const frame = frameOf(audio.sampleRate);
  for (let at = 0; at < masked.length; at += frame) {
    masker.process(audio.samples.subarray(at, at + frame), masked.subarray(at, at + frame));
  }
  masker.flush();
  const encoded = new Uint8Array(masked.length * bytesPerSample(audio.encoding));
  encode(audio.encoding, masked, encoded);
  try {
    writeFileSync(out, Buffer.concat([audio.prefix, encoded, audio.suffix]));
  } catch {
    throw usageError(`cannot write --out file ${out}`);
  }
  const maskedMs = Math.round(masker.stats.maskedSamples / (audio.sampleRate / 1000));
  process.stdout.write(`${JSON.stringify({ ...summary(events, audio.sampleRate), lookaheadMs, maskedMs })}\n`);
  return 0;
}
