/**
 * `npm run bench:dsp`: DTMF detection and masking throughput per core, as ratios against
 * baselines measured in the same run on the same audio:
 *
 * - spandsp's `dtmf_rx` (Debian libspandsp-dev), built at run time from
 *   scripts/spandsp-dtmf-bench.c into a temporary directory and timed in its own process;
 * - a naive baseline in this process: μ-law decode and encode around eight separate Goertzel
 *   loops over each frame, one filter at a time;
 * - the filter bank alone, the WebAssembly SIMD kernel against the tuned JavaScript recursion it
 *   replaced (test/dsp/reference/filter-bank.ts), on the same frames.
 *
 * The audio is one minute of 8 kHz speech-like noise (formant-shaped noise with a syllabic
 * envelope and pauses) with bursts of all sixteen DTMF digits. Every path runs it RUNS times,
 * taking turns on one core (one run of each per round), timed in CPU time; the median and best
 * run are reported.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DTMF_FREQUENCIES,
  SAMPLE_RATE,
  createDtmfDetector,
  createToneMasker,
  dbm0ToPeak,
  decodeMulaw,
  digitFrequencies,
  encodeMulaw,
  type DtmfDigit,
} from '../src/dsp/index.js';
import { DtmfFilterBank } from '../src/dsp/filter-bank.js';
import { ReferenceFilterBank } from '../test/dsp/reference/filter-bank.js';

const FRAME = 160;
const STREAM_SECONDS = 60;
const RUNS = Number(process.env.BENCH_DSP_RUNS ?? 15);
const DIGITS: readonly DtmfDigit[] = ['1', '2', '3', 'A', '4', '5', '6', 'B', '7', '8', '9', 'C', '*', '0', '#', 'D'];
const HARNESS_SOURCE = new URL('./spandsp-dtmf-bench.c', import.meta.url).pathname;

/** Deterministic uniform noise in [−1, 1). */
function noiseSource(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2147483648 - 1;
  };
}

/**
 * Speech-like audio: noise through two resonators (formants near 500 and 1500 Hz), under a
 * syllabic envelope (about 4 syllables a second at −15 dBm0, with 30% pauses at line-noise level),
 * and every 4 s a burst of the sixteen digits, 70 ms on and 50 ms off, at −10 dBm0 per tone.
 */
function testAudio(): Int16Array {
  const samples = new Int16Array(STREAM_SECONDS * SAMPLE_RATE);
  const noise = noiseSource(12345);
  const resonator = (hz: number, radius: number) => {
    const a1 = 2 * radius * Math.cos((2 * Math.PI * hz) / SAMPLE_RATE);
    const a2 = -radius * radius;
    let y1 = 0;
    let y2 = 0;
    return (x: number) => {
      const y = x + a1 * y1 + a2 * y2;
      y2 = y1;
      y1 = y;
      return y;
    };
  };
  const f1 = resonator(500, 0.97);
  const f2 = resonator(1500, 0.95);
  const syllable = 0.25 * SAMPLE_RATE;
  const speechPeak = dbm0ToPeak(-15) * 0.06;
  const lineNoise = dbm0ToPeak(-60);
  const tonePeak = dbm0ToPeak(-10);
  const burstEvery = 4 * SAMPLE_RATE;
  const on = 0.07 * SAMPLE_RATE;
  const period = 0.12 * SAMPLE_RATE;
  const envelopeNoise = noiseSource(777);
  let envelope = 0;
  for (let n = 0; n < samples.length; n++) {
    if (n % syllable === 0) envelope = envelopeNoise() > -0.4 ? 0.5 + 0.5 * Math.abs(envelopeNoise()) : 0;
    const phase = (n % syllable) / syllable;
    const shaped = f2(f1(noise())) * envelope * Math.sin(Math.PI * phase);
    let v = shaped * speechPeak + noise() * lineNoise;
    const inBurst = n % burstEvery;
    const digit = Math.floor(inBurst / period);
    if (digit < DIGITS.length && inBurst % period < on) {
      const [low, high] = digitFrequencies(DIGITS[digit]);
      v += tonePeak * (Math.sin((2 * Math.PI * low * n) / SAMPLE_RATE) + Math.sin((2 * Math.PI * high * n) / SAMPLE_RATE));
    }
    samples[n] = Math.max(-32768, Math.min(32767, Math.round(v)));
  }
  return samples;
}

/** CPU seconds of one run of `work`. */
function cpuSeconds(work: () => void): number {
  const start = process.cpuUsage();
  work();
  const cpu = process.cpuUsage(start);
  return (cpu.user + cpu.system) / 1e6;
}

function detectOnly(linear: Int16Array): { work: () => void; digits: () => string } {
  let digits = '';
  return {
    work() {
      digits = '';
      const detector = createDtmfDetector({ digitStart: (digit) => (digits += digit) });
      for (let at = 0; at < linear.length; at += FRAME) detector.process(linear.subarray(at, at + FRAME));
      detector.flush();
    },
    digits: () => digits,
  };
}

/** The caller path of one stream: μ-law decode, tone masker (with its detector), μ-law encode, per 20 ms frame. */
function detectAndMask(mulaw: Uint8Array): () => void {
  const linear = new Int16Array(FRAME);
  const masked = new Int16Array(FRAME);
  const output = new Uint8Array(FRAME);
  return () => {
    const masker = createToneMasker({});
    for (let at = 0; at + FRAME <= mulaw.length; at += FRAME) {
      decodeMulaw(mulaw.subarray(at, at + FRAME), linear);
      masker.process(linear, masked);
      encodeMulaw(masked, output);
    }
  };
}

/** The filter bank alone, fed 20 ms frames as the detector feeds it. */
function bankOnly(linear: Int16Array): { kernel: () => void; javascript: () => void } {
  return {
    kernel() {
      const bank = new DtmfFilterBank();
      for (let at = 0; at < linear.length; at += FRAME) {
        const frame = linear.subarray(at, at + FRAME);
        bank.stage(frame);
        for (let n = 0; n < frame.length; ) n = bank.feedStaged(n, frame.length);
      }
    },
    javascript() {
      const bank = new ReferenceFilterBank();
      for (let at = 0; at < linear.length; at += FRAME) {
        const end = Math.min(linear.length, at + FRAME);
        for (let n = at; n < end; ) n = bank.feed(linear, n, end);
      }
    },
  };
}

const NAIVE_COEFS = DTMF_FREQUENCIES.map((f) => 2 * Math.cos((2 * Math.PI * f) / SAMPLE_RATE));

/** Decode, eight separate Goertzel loops over the frame, encode: the in-process baseline. */
function naive(mulaw: Uint8Array): () => void {
  const linear = new Int16Array(FRAME);
  const output = new Uint8Array(FRAME);
  const powers = new Float64Array(NAIVE_COEFS.length);
  return () => {
    for (let at = 0; at + FRAME <= mulaw.length; at += FRAME) {
      decodeMulaw(mulaw.subarray(at, at + FRAME), linear);
      for (let i = 0; i < NAIVE_COEFS.length; i++) {
        const coef = NAIVE_COEFS[i];
        let s1 = 0;
        let s2 = 0;
        for (let n = 0; n < linear.length; n++) {
          const s0 = linear[n] + coef * s1 - s2;
          s2 = s1;
          s1 = s0;
        }
        powers[i] = s1 * s1 + s2 * s2 - coef * s1 * s2;
      }
      encodeMulaw(linear, output);
    }
  };
}

/** Builds the spandsp harness into `dir` and returns a function timing one run of it on `audio`, or why it cannot. */
function spandspHarness(dir: string, linear: Int16Array): { run: () => { seconds: number; digits: string } } | string {
  const binary = join(dir, 'spandsp-dtmf-bench');
  try {
    execFileSync('cc', ['-O2', '-o', binary, HARNESS_SOURCE, '-lspandsp', '-lm'], { stdio: 'pipe' });
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? error).split('\n')[0];
    return `the harness did not build (install libspandsp-dev and a C compiler): ${stderr}`;
  }
  const audio = join(dir, 'audio.s16le');
  writeFileSync(audio, new Uint8Array(linear.buffer, linear.byteOffset, linear.byteLength));
  return {
    run() {
      // Two passes per process: the first warms the page cache and the library, the second is timed.
      const result = JSON.parse(execFileSync(binary, [audio, '2'], { encoding: 'utf8' })) as { seconds: number[]; digits: string };
      return { seconds: result.seconds[1], digits: result.digits };
    },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Real-time factor (seconds of audio per CPU second) of the median and of the best run. */
function speed(seconds: number[]): { median: number; best: number } {
  return { median: STREAM_SECONDS / median(seconds), best: STREAM_SECONDS / Math.min(...seconds) };
}

const linear = testAudio();
const mulaw = new Uint8Array(linear.length);
encodeMulaw(linear, mulaw);

// The paths take turns, one run each per round, so that load drifting on a shared machine
// falls on all of them alike; the first round warms the JIT and is not counted.
const dir = mkdtempSync(join(tmpdir(), 'toneguard-bench-dsp-'));
const detector = detectOnly(linear);
const banks = bankOnly(linear);
const paths = { detect: detector.work, detectMask: detectAndMask(mulaw), naive: naive(mulaw), bankKernel: banks.kernel, bankJavascript: banks.javascript };
const seconds: Record<keyof typeof paths | 'spandsp', number[]> = { detect: [], detectMask: [], naive: [], bankKernel: [], bankJavascript: [], spandsp: [] };
let reference: ReturnType<typeof spandspHarness>;
let spandspDigits = '';
try {
  reference = spandspHarness(dir, linear);
  for (let round = 0; round <= RUNS; round++) {
    for (const [name, work] of Object.entries(paths) as [keyof typeof paths, () => void][]) {
      const s = cpuSeconds(work);
      if (round > 0) seconds[name].push(s);
    }
    if (typeof reference !== 'string') {
      const run = reference.run();
      spandspDigits = run.digits;
      if (round > 0) seconds.spandsp.push(run.seconds);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const ours = speed(seconds.detect);
const masking = speed(seconds.detectMask);
const baseline = speed(seconds.naive);
const kernelBank = speed(seconds.bankKernel);
const javascriptBank = speed(seconds.bankJavascript);

const round = (x: number): string => Math.round(x).toLocaleString('en-US');
const ratio = (a: number, b: number): string => (a / b).toFixed(2);
console.log(`audio: ${STREAM_SECONDS} s of speech-like noise with ${DIGITS.length}-digit bursts, 20 ms frames, ${RUNS} runs each on one core, median (best)`);
console.log(`detect (our detector on linear samples): ${round(ours.median)}× real time (${round(ours.best)}×)`);
console.log(`detect+mask (μ-law decode, masker, μ-law encode): ${round(masking.median)}× real time (${round(masking.best)}×), target 10,000×`);
console.log(`naive baseline (decode, 8 separate Goertzel loops, encode): ${round(baseline.median)}× real time (${round(baseline.best)}×)`);
console.log(
  `filter bank alone: WebAssembly SIMD kernel ${round(kernelBank.median)}× real time, the tuned JavaScript it replaced ${round(javascriptBank.median)}× (${ratio(kernelBank.median, javascriptBank.median)}×)`,
);
const figures: Record<string, number | string> = {
  detectRealTime: Math.round(ours.median),
  detectMaskRealTime: Math.round(masking.median),
  naiveRealTime: Math.round(baseline.median),
  detectMaskToNaive: Number(ratio(masking.median, baseline.median)),
  detectToNaive: Number(ratio(ours.median, baseline.median)),
  detectMaskToTarget: Number(ratio(masking.median, 10_000)),
  bankKernelToJavascript: Number(ratio(kernelBank.median, javascriptBank.median)),
};
if (typeof reference === 'string') {
  console.log(`spandsp: not measured. ${reference}`);
} else {
  const theirs = speed(seconds.spandsp);
  // Per round, ours against the spandsp run next to it, then the median: robust to drifting load.
  const paired = (mine: number[]) => median(mine.map((s, i) => seconds.spandsp[i] / s));
  console.log(`spandsp dtmf_rx (C, -O2 harness, same audio and frames): ${round(theirs.median)}× real time (${round(theirs.best)}×)`);
  console.log(`ratio to spandsp (median of per-round ratios): detect ${paired(seconds.detect).toFixed(2)} (best runs ${ratio(ours.best, theirs.best)}), detect+mask ${paired(seconds.detectMask).toFixed(2)}`);
  console.log(`digits decoded: ours ${detector.digits().length}, spandsp ${spandspDigits.length} (of ${DIGITS.length * Math.ceil(STREAM_SECONDS / 4)} sent)`);
  Object.assign(figures, {
    spandspRealTime: Math.round(theirs.median),
    detectToSpandsp: Number(paired(seconds.detect).toFixed(2)),
    detectMaskToSpandsp: Number(paired(seconds.detectMask).toFixed(2)),
  });
}
console.log(`ratio to naive: detect ${ratio(ours.median, baseline.median)}, detect+mask ${ratio(masking.median, baseline.median)}`);
console.log(JSON.stringify(figures));
