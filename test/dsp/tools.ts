import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { int16Bytes, multimonDigits, rawLinear, withTempDir } from '../../src/evidence/independent-decoder.js';

/** Wrappers around the independent judges and sources: sox, multimon-ng, espeak-ng (multimon-ng lives in src, for `toneguard evidence`). */

export { int16Bytes, multimonDigits, withTempDir };

export function bytesToInt16(bytes: Buffer): Int16Array {
  const copy = new Int16Array(bytes.length >> 1);
  for (let i = 0; i < copy.length; i++) copy[i] = bytes.readInt16LE(2 * i);
  return copy;
}

const RAW_8K = rawLinear(8000);

/** Converts 8 kHz linear samples with sox to another raw encoding (`mu-law`, `a-law`). */
export function soxEncode(samples: Int16Array, encoding: 'mu-law' | 'a-law'): Buffer {
  return withTempDir((dir) => {
    const input = join(dir, 'in.raw');
    const output = join(dir, 'out.raw');
    writeFileSync(input, int16Bytes(samples));
    execFileSync('sox', ['-D', ...RAW_8K, input, '-t', 'raw', '-e', encoding, '-b', '8', output]);
    return readFileSync(output);
  });
}

/** Decodes raw 8-bit codes with sox to 8 kHz linear samples. */
export function soxDecode(codes: Uint8Array, encoding: 'mu-law' | 'a-law'): Int16Array {
  return withTempDir((dir) => {
    const input = join(dir, 'in.raw');
    const output = join(dir, 'out.raw');
    writeFileSync(input, codes);
    execFileSync('sox', ['-t', 'raw', '-r', '8000', '-e', encoding, '-b', '8', '-c', '1', input, ...RAW_8K, output]);
    return bytesToInt16(readFileSync(output));
  });
}

/** Speech from espeak-ng in `voice` at `pitch` (0–99), as mono 16-bit samples at `sampleRate` (espeak speaks at 22.05 kHz; sox resamples). */
export function speech(voice: string, text: string, pitch = 50, sampleRate = 8000): Int16Array {
  return withTempDir((dir) => {
    const wav = join(dir, 'speech.wav');
    const raw = join(dir, 'speech.raw');
    execFileSync('espeak-ng', ['-v', voice, '-p', String(pitch), '-w', wav, text]);
    // Leave headroom: espeak peaks near full scale and resampling would clip.
    execFileSync('sox', [wav, ...rawLinear(sampleRate), raw, 'gain', '-3']);
    return bytesToInt16(readFileSync(raw));
  });
}
