import { bytesPerSample, decode, type AudioEncoding } from '../dsp/index.js';
import { ToneguardError } from '../errors.js';
import { isWav, parseWav } from '../media/wav.js';

/** How to read a file without a WAV header (`--encoding`, `--rate`); WAV files describe themselves. */
export interface HeaderlessFormat {
  encoding: AudioEncoding;
  sampleRate: number;
}

/** A recording's samples per channel at its own rate, and where they sit in the file (to write a redacted copy). */
export interface DecodedRecording {
  container: 'wav' | 'raw';
  encoding: AudioEncoding;
  sampleRate: number;
  channels: Int16Array[];
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
  const samples = new Int16Array(usable / bytesPerSample(headerless.encoding));
  decode(headerless.encoding, bytes.subarray(0, usable), samples);
  return { container: 'raw', ...headerless, channels: [samples], dataStart: 0 };
}

function decodeWav(bytes: Uint8Array): DecodedRecording {
  const layout = parseWav(bytes);
  if ('error' in layout) throw notAudio(layout.error);
  const { encoding, sampleRate, channels: count, dataStart, dataEnd } = layout;
  const frameBytes = count * bytesPerSample(encoding);
  const frames = Math.floor((dataEnd - dataStart) / frameBytes);
  const interleaved = new Int16Array(frames * count);
  decode(encoding, bytes.subarray(dataStart, dataStart + frames * frameBytes), interleaved);
  const channels = count === 1 ? [interleaved] : Array.from({ length: count }, () => new Int16Array(frames));
  if (count > 1) for (let i = 0, k = 0; i < frames; i++) for (let c = 0; c < count; c++) channels[c][i] = interleaved[k++];
  const truncated = layout.truncated ? `truncated: the file ends ${(frames / sampleRate).toFixed(1)} s into its audio` : undefined;
  return { container: 'wav', encoding, sampleRate, channels, dataStart, ...(truncated ? { truncated } : {}) };
}
