/**
 * `npm run bench:scan`: how many times real time `toneguard scan` reads recordings, per core and end
 * to end (file read, WAV parse, decode, resample, DTMF detection, card rules), for 8 kHz mono μ-law
 * (the usual call-recording format), 8 kHz stereo PCM, and 16 kHz and 44.1 kHz stereo PCM; then 44.1 kHz
 * stereo under −40 dBm0 noise throughout, which keeps the scan's silence gate open (the worst case:
 * every sample goes through the filters, as in a recording full of speech or a loud line). Baselines in
 * the same run: the raw `dsp detect` core (the detector alone over already-decoded 8 kHz samples),
 * and multimon-ng over the same 8 kHz audio when it is installed. Then the whole worker pool on
 * every core over a batch of files.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDtmfDetector, encode, type AudioEncoding } from '../src/dsp/index.js';
import { addNoise, toInt16 } from '../src/dsp/signals.js';
import { independentDecoderAvailable, int16Bytes, rawLinear } from '../src/evidence/independent-decoder.js';
import { ScanPool } from '../src/scan/pool.js';
import { scanRecording } from '../src/scan/scan-file.js';
import { keyedChannel, wavFile } from '../test/scan/recordings.js';

const SECONDS = 120;
const MIN_BENCH_MS = 2000;
const dir = mkdtempSync(join(tmpdir(), 'toneguard-bench-scan-'));
const NOW = Date.now();

/** Two minutes of a call: a card, expiry and CVV keyed over faint line noise. */
function call(sampleRate: number, seed: number): Int16Array {
  const entries = [
    { pauseMs: 20_000, digits: '4111111111111111' },
    { pauseMs: 5000, digits: '1229' },
    { pauseMs: 5000, digits: '937' },
  ];
  const keyed = keyedChannel(entries, { sampleRate, seed, tailMs: SECONDS * 1000 - 35_000 });
  return keyed.samples;
}

/** `samples` under white noise at −40 dBm0: loud enough that the silence gate never closes. */
function underNoise(samples: Int16Array, seed: number): Int16Array {
  return toInt16(addNoise(Float64Array.from(samples), -40, seed));
}

function muLawWav(samples: Int16Array): Buffer {
  const data = Buffer.alloc(samples.length);
  encode('pcmu' as AudioEncoding, samples, data);
  const header = wavFile(8000, [new Int16Array(0)]).subarray(0, 44);
  header.writeUInt16LE(7, 20);
  header.writeUInt32LE(8000, 28);
  header.writeUInt16LE(1, 32);
  header.writeUInt16LE(8, 34);
  header.writeUInt32LE(36 + data.length, 4);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

/** Seconds of audio per second of CPU time on this thread. */
function perCore(audioSeconds: number, work: () => void): number {
  work(); // warm-up: let the JIT settle
  let done = 0;
  const start = process.cpuUsage();
  const deadline = performance.now() + MIN_BENCH_MS;
  while (performance.now() < deadline) {
    work();
    done += audioSeconds;
  }
  const cpu = process.cpuUsage(start);
  return done / ((cpu.user + cpu.system) / 1e6);
}

const narrow = call(8000, 1);
const cases: { name: string; file: string }[] = [
  { name: '8 kHz mono μ-law WAV', file: join(dir, 'mono-ulaw.wav') },
  { name: '8 kHz stereo PCM WAV', file: join(dir, 'stereo-8k.wav') },
  { name: '16 kHz stereo PCM WAV', file: join(dir, 'stereo-16k.wav') },
  { name: '44.1 kHz stereo PCM WAV', file: join(dir, 'stereo-44k.wav') },
  { name: '44.1 kHz stereo PCM WAV, −40 dBm0 noise throughout (gate open)', file: join(dir, 'stereo-44k-noisy.wav') },
];
writeFileSync(cases[0].file, muLawWav(narrow));
writeFileSync(cases[1].file, wavFile(8000, [narrow, call(8000, 2)]));
writeFileSync(cases[2].file, wavFile(16000, [call(16000, 1), call(16000, 2)]));
writeFileSync(cases[3].file, wavFile(44100, [call(44100, 1), call(44100, 2)]));
writeFileSync(cases[4].file, wavFile(44100, [underNoise(call(44100, 1), 3), underNoise(call(44100, 2), 4)]));

const round = (x: number): string => Math.round(x).toLocaleString('en-US');
const results: Record<string, number> = {};
try {
  const detectorCore = perCore(SECONDS, () => {
    const detector = createDtmfDetector({});
    detector.process(narrow);
    detector.flush();
  });
  console.log(`baseline, dsp detect core (detector alone over decoded 8 kHz samples): ${round(detectorCore)}× real time per core`);
  results.detectorCore = Math.round(detectorCore);

  for (const { name, file } of cases) {
    const factor = perCore(SECONDS, () => {
      const scan = scanRecording(readFileSync(file), undefined, { redact: false, nowMs: NOW });
      if (scan.cards.length === 0) throw new Error('the benchmark call should hold a card');
    });
    console.log(`scan end to end, ${name}: ${round(factor)}× real time per core (per recording; ratio to the detector core ${(factor / detectorCore).toFixed(2)})`);
    results[name] = Math.round(factor);
  }

  if (independentDecoderAvailable()) {
    // multimon-ng wants 22050 Hz; the conversion is not timed.
    const raw8 = join(dir, 'mono.raw');
    const raw22 = join(dir, 'mono22.raw');
    writeFileSync(raw8, int16Bytes(narrow));
    execFileSync('sox', [...rawLinear(8000), raw8, ...rawLinear(22050), raw22]);
    const start = performance.now();
    const runs = 3;
    for (let i = 0; i < runs; i++) execFileSync('multimon-ng', ['-q', '-a', 'DTMF', '-t', 'raw', raw22]);
    const multimon = (runs * SECONDS) / ((performance.now() - start) / 1000);
    console.log(`baseline, multimon-ng over the same 8 kHz mono audio (at its 22050 Hz, wall clock): ${round(multimon)}× real time; scan/multimon-ng ${(results[cases[0].name] / multimon).toFixed(2)}`);
    results.multimon = Math.round(multimon);
  }

  const cores = availableParallelism();
  const batch = Array.from({ length: cores * 4 }, () => cases[0].file);
  const pool = new ScanPool(cores);
  await Promise.all(batch.slice(0, cores).map((path) => pool.scan({ path, nowMs: NOW })));
  const start = performance.now();
  await Promise.all(batch.map((path) => pool.scan({ path, nowMs: NOW })));
  const poolFactor = (batch.length * SECONDS) / ((performance.now() - start) / 1000);
  await pool.close();
  console.log(`worker pool on ${cores} cores, ${batch.length} files of 8 kHz mono μ-law: ${round(poolFactor)}× real time (wall clock, all cores; ${round(poolFactor / cores)} per core)`);
  results.pool = Math.round(poolFactor);
  results.cores = cores;
  console.log(JSON.stringify(results));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
