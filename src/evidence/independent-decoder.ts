import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * multimon-ng, the independent DTMF decoder the masking claims are judged by (with sox to bring
 * audio to the 22050 Hz it expects). Used by the tests and by `toneguard evidence`.
 */

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

/** sox arguments for headerless signed 16-bit mono at `rate`. */
export const rawLinear = (rate: number): string[] => ['-t', 'raw', '-r', String(rate), '-e', 'signed', '-b', '16', '-c', '1'];

/**
 * `samples` at `fromRate` resampled by sox to `toRate` (its default very-high-quality filter):
 * how 16 kHz output is brought to 8 kHz before the 8 kHz judges hear it.
 */
export function soxResample(samples: Int16Array, fromRate: number, toRate: number): Int16Array {
  if (fromRate === toRate) return samples;
  return withTempDir((dir) => {
    const input = join(dir, 'in.raw');
    writeFileSync(input, int16Bytes(samples));
    const out = execFileSync('sox', ['-D', ...rawLinear(fromRate), input, ...rawLinear(toRate), '-'], { maxBuffer: 1 << 28 });
    const copy = new Int16Array(out.length >> 1);
    for (let i = 0; i < copy.length; i++) copy[i] = out.readInt16LE(2 * i);
    return copy;
  });
}

/** True when both sox and multimon-ng can be run. */
export function independentDecoderAvailable(): boolean {
  return spawnSync('multimon-ng', ['-h']).error === undefined && spawnSync('sox', ['--version']).error === undefined;
}

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
