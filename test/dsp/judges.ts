import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SampleRate } from '../../src/dsp/index.js';
import { detect, digitsOf } from './detect.js';
import { int16Bytes, multimonDigits, soxResample } from '../../src/evidence/independent-decoder.js';

/**
 * The judges masked audio faces, all at 8 kHz: multimon-ng, spandsp's dtmf_rx (Debian
 * libspandsp-dev, through the benchmark's harness scripts/spandsp-dtmf-bench.c) and this repo's
 * 8 kHz receiver, whose Q.24 grade detector.test.ts establishes. Audio at another rate is first
 * brought to 8 kHz by sox, as an 8 kHz leg or a narrowband copy of the recording would be.
 */

const HARNESS = new URL('../../scripts/spandsp-dtmf-bench.c', import.meta.url).pathname;
let harness: string | undefined;

function spandspBinary(): string {
  if (harness) return harness;
  const dir = mkdtempSync(join(tmpdir(), 'toneguard-spandsp-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const binary = join(dir, 'spandsp-dtmf');
  execFileSync('cc', ['-O2', '-o', binary, HARNESS, '-lspandsp', '-lm'], { stdio: 'pipe' });
  harness = binary;
  return binary;
}

/** Digits spandsp's dtmf_rx decodes from 8 kHz linear samples. */
export function spandspDigits(samples: Int16Array): string {
  const binary = spandspBinary();
  const dir = mkdtempSync(join(tmpdir(), 'toneguard-spandsp-in-'));
  try {
    const file = join(dir, 'in.s16le');
    writeFileSync(file, int16Bytes(samples));
    return (JSON.parse(execFileSync(binary, [file, '1'], { encoding: 'utf8' })) as { digits: string }).digits;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const narrow = (samples: Int16Array, sampleRate: SampleRate): Int16Array => soxResample(samples, sampleRate, 8000);

/** What each judge decodes from `samples` at `sampleRate`, after sox has brought them to 8 kHz. */
export function judged(samples: Int16Array, sampleRate: SampleRate): { multimon: string; spandsp: string; receiver: string } {
  const at8k = narrow(samples, sampleRate);
  return { multimon: multimonDigits(at8k), spandsp: spandspDigits(at8k), receiver: digitsOf(detect(at8k)) };
}
