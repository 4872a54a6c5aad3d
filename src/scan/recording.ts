import { bytesPerSample, decode, type AudioEncoding } from '../dsp/index.js';
import { ToneguardError } from '../errors.js';
import { isWav, parseWav } from '../media/wav.js';

/** How to read a file without a WAV header (`--encoding`, `--rate`); WAV files describe themselves. */
export interface HeaderlessFormat {
  encoding: AudioEncoding;
  sampleRate: number;
}

/** A recording's samples at its own rate, and where they sit in the file (to write a redacted copy). */
export interface DecodedRecording {
  container: 'wav' | 'raw';
  encoding: AudioEncoding;
  sampleRate: number;
  channels: number;
  frames: number;
  /** Interleaved as in the file: frame i of channel c at i · channels + c. */
  samples: Int16Array;
  dataStart: number;
  /** Set when the file ends before its data chunk does: what is present was decoded. */
  truncated?: string;
}

const notAudio = (why: string) => new ToneguardError('scan_not_audio', why, 400);

/** Decodes a WAV (any rate, any channel count) or, given `headerless`, a raw single-channel file. */
export function decodeRecording(bytes: Uint8Array, headerless: HeaderlessFormat | undefined): DecodedRecording {
  if (isWav(bytes)) return decodeWav(bytes);
  if (!headerless) throw notAudio('not a WAV file (give --encoding and --rate for headerless audio)');
  const usable = bytes.length - (bytes.length % bytesPerSample(headerless.encoding));
  const samples = decoded(headerless.encoding, bytes.subarray(0, usable));
  return { container: 'raw', ...headerless, channels: 1, frames: samples.length, samples, dataStart: 0 };
}

function decodeWav(bytes: Uint8Array): DecodedRecording {
  const layout = parseWav(bytes);
  if ('error' in layout) throw notAudio(layout.error);
  const { encoding, sampleRate, channels: count, dataStart, dataEnd } = layout;
  const frameBytes = count * bytesPerSample(encoding);
  const frames = Math.floor((dataEnd - dataStart) / frameBytes);
  const samples = decoded(encoding, bytes.subarray(dataStart, dataStart + frames * frameBytes));
  const truncated = layout.truncated ? `truncated: the file ends ${(frames / sampleRate).toFixed(1)} s into its audio` : undefined;
  return { container: 'wav', encoding, sampleRate, channels: count, frames, samples, dataStart, ...(truncated ? { truncated } : {}) };
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** The samples of whole-sample `data`; 16-bit PCM is read in place (no copy) when this machine is little-endian and the data aligned. */
function decoded(encoding: AudioEncoding, data: Uint8Array): Int16Array {
  const length = data.length / bytesPerSample(encoding);
  if (encoding === 'l16' && LITTLE_ENDIAN && data.byteOffset % 2 === 0) return new Int16Array(data.buffer, data.byteOffset, length);
  const samples = new Int16Array(length);
  decode(encoding, data, samples);
  return samples;
}
