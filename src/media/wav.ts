/** A 44-byte PCM WAV header. `dataBytes` may be a placeholder for streamed files (see `withWavSizes`). */
export function wavHeader(sampleRate: number, channels: number, dataBytes: number): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE((36 + dataBytes) >>> 0, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32);
  h.writeUInt16LE(16, 34);
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

export interface WavAudio {
  sampleRate: number;
  /** One Int16Array per channel. */
  channels: Int16Array[];
}

/** Splits a 16-bit PCM WAV (44-byte header) into its channels. */
export function readWav(wav: Buffer): WavAudio | undefined {
  if (wav.length < 44 || wav.toString('ascii', 0, 4) !== 'RIFF' || wav.toString('ascii', 8, 12) !== 'WAVE') return undefined;
  if (wav.readUInt16LE(20) !== 1 || wav.readUInt16LE(34) !== 16) return undefined;
  const count = wav.readUInt16LE(22);
  const sampleRate = wav.readUInt32LE(24);
  const frames = Math.floor((wav.length - 44) / (2 * count));
  const channels = Array.from({ length: count }, () => new Int16Array(frames));
  for (let i = 0; i < frames; i++) for (let c = 0; c < count; c++) channels[c][i] = wav.readInt16LE(44 + (i * count + c) * 2);
  return { sampleRate, channels };
}
