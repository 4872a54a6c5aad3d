/**
 * A 44-byte WAV header: 16-bit PCM, or 8-bit G.711 (μ-law, A-law). `dataBytes` may be a
 * placeholder for streamed files (see `withWavSizes`).
 */
export function wavHeader(sampleRate: number, channels: number, dataBytes: number, encoding: WavEncoding = 'l16'): Buffer {
  const width = encoding === 'l16' ? 2 : 1;
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE((36 + dataBytes) >>> 0, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(WAV_FORMAT_TAGS[encoding], 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * channels * width, 28);
  h.writeUInt16LE(channels * width, 32);
  h.writeUInt16LE(8 * width, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataBytes >>> 0, 40);
  return h;
}

/** Fixes the size fields of a streamed WAV once its length is known. */
export function withWavSizes(wav: Buffer): Buffer {
  const dataBytes = wav.length - 44;
  wav.writeUInt32LE(36 + dataBytes, 4);
  wav.writeUInt32LE(dataBytes, 40);
  return wav;
}

export type WavEncoding = 'l16' | 'pcmu' | 'pcma';

/** Where a WAV file's samples are and what they are; `truncated` when the data chunk claims more bytes than the file holds. */
export interface WavLayout {
  encoding: WavEncoding;
  sampleRate: number;
  channels: number;
  dataStart: number;
  dataEnd: number;
  truncated: boolean;
}

const WAV_FORMAT_TAGS: Record<WavEncoding, number> = { l16: 1, pcma: 6, pcmu: 7 };
const WAV_FORMATS: Record<number, WavEncoding | undefined> = { 1: 'l16', 6: 'pcma', 7: 'pcmu' };
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

export function isWav(bytes: Uint8Array): boolean {
  return bytes.length >= 12 && ascii(bytes, 0) === 'RIFF' && ascii(bytes, 8) === 'WAVE';
}

function ascii(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
}

/**
 * Walks a RIFF/WAVE file's chunks to its fmt and data chunks: 16-bit PCM, μ-law or A-law (plain or
 * WAVE_FORMAT_EXTENSIBLE), any rate and channel count. Returns why not when the file is not one.
 */
export function parseWav(bytes: Uint8Array): WavLayout | { error: string } {
  if (!isWav(bytes)) return { error: 'not a RIFF/WAVE file' };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let format: Omit<WavLayout, 'dataStart' | 'dataEnd' | 'truncated'> | undefined;
  for (let at = 12; at + 8 <= bytes.length; ) {
    const id = ascii(bytes, at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      if (body + 16 > bytes.length) return { error: 'WAV fmt chunk is cut short' };
      let tag = view.getUint16(body, true);
      if (tag === WAVE_FORMAT_EXTENSIBLE && size >= 40 && body + 26 <= bytes.length) tag = view.getUint16(body + 24, true);
      const encoding = WAV_FORMATS[tag];
      const bits = view.getUint16(body + 14, true);
      if (encoding === undefined || bits !== (encoding === 'l16' ? 16 : 8)) return { error: 'WAV format is not μ-law, A-law or 16-bit PCM' };
      const channels = view.getUint16(body + 2, true);
      const sampleRate = view.getUint32(body + 4, true);
      if (channels < 1 || sampleRate < 1) return { error: 'WAV fmt chunk has no channels or no sample rate' };
      format = { encoding, channels, sampleRate };
    }
    if (id === 'data') {
      if (!format) return { error: 'WAV data chunk before fmt chunk' };
      const dataEnd = Math.min(bytes.length, body + size);
      return { ...format, dataStart: body, dataEnd, truncated: body + size > bytes.length };
    }
    at = body + size + (size & 1);
  }
  return { error: format ? 'WAV file has no data chunk' : 'WAV file has no fmt chunk' };
}

export interface WavAudio {
  sampleRate: number;
  /** One Int16Array per channel. */
  channels: Int16Array[];
}

/** Splits a 16-bit PCM WAV into its channels. */
export function readWav(wav: Buffer): WavAudio | undefined {
  const layout = parseWav(wav);
  if ('error' in layout || layout.encoding !== 'l16') return undefined;
  const count = layout.channels;
  const frames = Math.floor((layout.dataEnd - layout.dataStart) / (2 * count));
  const channels = Array.from({ length: count }, () => new Int16Array(frames));
  for (let i = 0; i < frames; i++) for (let c = 0; c < count; c++) channels[c][i] = wav.readInt16LE(layout.dataStart + (i * count + c) * 2);
  return { sampleRate: layout.sampleRate, channels };
}
