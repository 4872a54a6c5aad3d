import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Wrappers around the independent judges and sources: sox, multimon-ng, espeak-ng. */

export function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'toneguard-dsp-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function int16Bytes(samples: Int16Array): Buffer {
  return Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
}

export function bytesToInt16(bytes: Buffer): Int16Array {
  const copy = new Int16Array(bytes.length >> 1);
  for (let i = 0; i < copy.length; i++) copy[i] = bytes.readInt16LE(2 * i);
  return copy;
}

const rawLinear = (rate: number): string[] => ['-t', 'raw', '-r', String(rate), '-e', 'signed', '-b', '16', '-c', '1'];
const RAW_8K = rawLinear(8000);

/** Digits multimon-ng decodes from linear audio at `sampleRate` (resampled to the 22050 Hz it expects). */
export function multimonDigits(samples: Int16Array, sampleRate = 8000): string {
  return withTempDir((dir) => {
    const input = join(dir, 'in.raw');
    const resampled = join(dir, 'in22.raw');
    writeFileSync(input, int16Bytes(samples));
    execFileSync('sox', [...rawLinear(sampleRate), input, ...rawLinear(22050), resampled]);
    const out = execFileSync('multimon-ng', ['-q', '-a', 'DTMF', '-t', 'raw', resampled], { encoding: 'utf8' });
    return [...out.matchAll(/DTMF: (\S)/g)].map((m) => m[1]).join('');
  });
}

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

/** Speech from espeak-ng in `voice` at `pitch` (0–99), as 8 kHz mono 16-bit samples. */
export function speech(voice: string, text: string, pitch = 50): Int16Array {
  return withTempDir((dir) => {
    const wav = join(dir, 'speech.wav');
    const raw = join(dir, 'speech.raw');
    execFileSync('espeak-ng', ['-v', voice, '-p', String(pitch), '-w', wav, text]);
    // Leave headroom: espeak peaks near full scale and resampling would clip.
    execFileSync('sox', [wav, ...RAW_8K, raw, 'gain', '-3']);
    return bytesToInt16(readFileSync(raw));
  });
}
