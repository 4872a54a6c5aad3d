import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDtmfDetector, digitFrequencies, generateTone, type DtmfDigit } from '../dsp/index.js';

const RATE = 8000;
const samplesFor = (ms: number) => Math.round((ms * RATE) / 1000);

/** The parts one after another. */
export function concatSamples(parts: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export interface KeyedAudio {
  audio: Int16Array;
  /** Where each tone ends (sample index), when the platform would send its DTMF event. */
  keyEnds: { digit: DtmfDigit; endSample: number }[];
}

/** Keypad tones as a caller's phone sends them: `toneMs` on, `gapMs` off, each tone at `levelDbm0`. */
export function keypadTones(digits: string, options: { toneMs?: number; gapMs?: number; levelDbm0?: number } = {}): KeyedAudio {
  const tone = samplesFor(options.toneMs ?? 100);
  const gap = samplesFor(options.gapMs ?? 120);
  const audio = new Int16Array(digits.length * (tone + gap));
  const keyEnds: KeyedAudio['keyEnds'] = [];
  [...digits].forEach((d, i) => {
    const digit = d as DtmfDigit;
    const start = i * (tone + gap);
    generateTone(audio.subarray(start, start + tone), digitFrequencies(digit), options.levelDbm0 ?? -8);
    keyEnds.push({ digit, endSample: start + tone });
  });
  return { audio, keyEnds };
}

/**
 * A speech-like stand-in when espeak-ng is absent: voiced syllables (a gliding 100–180 Hz
 * pitch with decaying harmonics, shaped by formant-ish weights) separated by short pauses.
 */
export function syntheticSpeech(ms: number, seed = 1): Int16Array {
  const out = new Int16Array(samplesFor(ms));
  let state = seed >>> 0 || 1;
  const random = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  let at = 0;
  while (at < out.length) {
    const syllable = samplesFor(150 + random() * 150);
    const pitch0 = 100 + random() * 80;
    const glide = (random() - 0.5) * 40;
    let phase = 0;
    for (let i = 0; i < syllable && at + i < out.length; i++) {
      const progress = i / syllable;
      const pitch = pitch0 + glide * progress;
      phase += (2 * Math.PI * pitch) / RATE;
      let v = 0;
      for (let h = 1; h <= 12; h++) v += Math.sin(h * phase) / (h * (h > 3 ? 1.5 : 1));
      out[at + i] = Math.round(2500 * Math.sin(Math.PI * progress) * v);
    }
    at += syllable + samplesFor(40 + random() * 120);
  }
  return out;
}

function installed(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).status === 0;
}

/** Speech from espeak-ng resampled to 8 kHz with sox, or the synthetic stand-in when either is missing. */
export function speech(text: string, fallbackMs: number, seed = 1): { audio: Int16Array; source: 'espeak-ng' | 'synthetic' } {
  if (installed('espeak-ng') && installed('sox')) {
    const wav = spawnSync('espeak-ng', ['--stdout', text], { maxBuffer: 32 * 1024 * 1024 });
    if (wav.status === 0) {
      const raw = spawnSync('sox', ['-t', 'wav', '-', '-t', 'raw', '-r', '8000', '-e', 'signed', '-b', '16', '-c', '1', '-'], { input: wav.stdout, maxBuffer: 32 * 1024 * 1024 });
      if (raw.status === 0 && raw.stdout.length > 0) {
        const bytes = Buffer.from(raw.stdout);
        return { audio: new Int16Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.length / 2)).slice(), source: 'espeak-ng' };
      }
    }
  }
  return { audio: syntheticSpeech(fallbackMs, seed), source: 'synthetic' };
}

/**
 * Decodes DTMF from 8 kHz audio with a decoder independent of ours: multimon-ng (via sox to
 * its 22.05 kHz input) when installed, else Toneguard's own detector.
 */
export function decodeDigits(audio: Int16Array): { digits: string; decoder: 'multimon-ng' | 'toneguard' } {
  if (installed('multimon-ng') && installed('sox')) {
    const dir = mkdtempSync(join(tmpdir(), 'toneguard-decode-'));
    try {
      const input = join(dir, 'in.raw');
      const resampled = join(dir, 'in22.raw');
      writeFileSync(input, new Uint8Array(audio.buffer, audio.byteOffset, audio.byteLength));
      const sox = spawnSync('sox', ['-t', 'raw', '-r', '8000', '-e', 'signed', '-b', '16', '-c', '1', input, '-t', 'raw', '-r', '22050', '-e', 'signed', '-b', '16', '-c', '1', resampled]);
      if (sox.status === 0) {
        const run = spawnSync('multimon-ng', ['-q', '-c', '-a', 'DTMF', '-t', 'raw', resampled], { encoding: 'utf8' });
        if (run.status === 0) {
          const digits = [...run.stdout.matchAll(/DTMF: (\S)/g)].map((m) => m[1]).join('');
          return { digits, decoder: 'multimon-ng' };
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  let digits = '';
  const detector = createDtmfDetector({ digitStart: (digit) => void (digits += digit) });
  detector.process(audio);
  detector.flush();
  return { digits, decoder: 'toneguard' };
}
