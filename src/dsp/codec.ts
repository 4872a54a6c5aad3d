import type { AudioEncoding } from './types.js';
import { decodeAlaw, decodeMulaw, encodeAlaw, encodeMulaw } from './g711.js';
import { decodeL16, encodeL16 } from './l16.js';

export const AUDIO_ENCODINGS: readonly AudioEncoding[] = ['pcmu', 'pcma', 'l16'];

export function isAudioEncoding(value: string): value is AudioEncoding {
  return (AUDIO_ENCODINGS as readonly string[]).includes(value);
}

export function bytesPerSample(encoding: AudioEncoding): 1 | 2 {
  return encoding === 'l16' ? 2 : 1;
}

/** Decodes `src.length / bytesPerSample(encoding)` samples into `dst`. */
export function decode(encoding: AudioEncoding, src: Uint8Array, dst: Int16Array): void {
  if (encoding === 'pcmu') decodeMulaw(src, dst);
  else if (encoding === 'pcma') decodeAlaw(src, dst);
  else decodeL16(src, dst);
}

/** Encodes `src.length` samples into `src.length * bytesPerSample(encoding)` bytes of `dst`. */
export function encode(encoding: AudioEncoding, src: Int16Array, dst: Uint8Array): void {
  if (encoding === 'pcmu') encodeMulaw(src, dst);
  else if (encoding === 'pcma') encodeAlaw(src, dst);
  else encodeL16(src, dst);
}
