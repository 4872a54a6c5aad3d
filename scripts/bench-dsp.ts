/**
 * `npm run bench:dsp`: real-time channels per core for the caller path of one stream
 * (μ-law decode → tone masker with its detector → μ-law encode, 20 ms frames), against a naive
 * baseline measured in the same run: the same decode and encode around eight separate Goertzel
 * loops over each frame, one filter at a time.
 */
import { DTMF_FREQUENCIES, createDtmfDetector, createToneMasker, decodeMulaw, encodeMulaw, SAMPLE_RATE, dbm0ToPeak } from '../src/dsp/index.js';

const FRAME = 160;
const STREAM_SECONDS = 60;
const MIN_BENCH_MS = 3000;

/** A minute of line noise with a digit burst every few seconds, μ-law encoded. */
function testStream(): Uint8Array {
  const samples = new Int16Array(STREAM_SECONDS * SAMPLE_RATE);
  let seed = 12345;
  const noise = dbm0ToPeak(-40);
  for (let n = 0; n < samples.length; n++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    let v = (seed / 4294967296 - 0.5) * noise;
    const inBurst = n % (3 * SAMPLE_RATE) < 0.08 * SAMPLE_RATE;
    if (inBurst) v += dbm0ToPeak(-10) * (Math.sin((2 * Math.PI * 770 * n) / SAMPLE_RATE) + Math.sin((2 * Math.PI * 1336 * n) / SAMPLE_RATE));
    samples[n] = Math.round(v);
  }
  const encoded = new Uint8Array(samples.length);
  encodeMulaw(samples, encoded);
  return encoded;
}

type FrameWork = (input: Uint8Array, output: Uint8Array) => void;

function maskerPath(): FrameWork {
  const masker = createToneMasker({});
  const linear = new Int16Array(FRAME);
  const masked = new Int16Array(FRAME);
  return (input, output) => {
    decodeMulaw(input, linear);
    masker.process(linear, masked);
    encodeMulaw(masked, output);
  };
}

/** Detection alone (decode, detector, encode of the untouched frame): the interleaved bank against the naive loops. */
function detectorPath(): FrameWork {
  const detector = createDtmfDetector({});
  const linear = new Int16Array(FRAME);
  return (input, output) => {
    decodeMulaw(input, linear);
    detector.process(linear);
    encodeMulaw(linear, output);
  };
}

const COEFS = DTMF_FREQUENCIES.map((f) => 2 * Math.cos((2 * Math.PI * f) / SAMPLE_RATE));

function naivePath(): FrameWork {
  const linear = new Int16Array(FRAME);
  const powers = new Float64Array(COEFS.length);
  return (input, output) => {
    decodeMulaw(input, linear);
    for (let i = 0; i < COEFS.length; i++) {
      const coef = COEFS[i];
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
  };
}

/** Real-time channels per core: seconds of audio processed per second of CPU time. */
function measure(make: () => FrameWork, stream: Uint8Array): number {
  const output = new Uint8Array(FRAME);
  let audioSeconds = 0;
  const start = process.cpuUsage();
  const deadline = performance.now() + MIN_BENCH_MS;
  while (performance.now() < deadline) {
    const work = make();
    for (let at = 0; at + FRAME <= stream.length; at += FRAME) work(stream.subarray(at, at + FRAME), output);
    audioSeconds += stream.length / SAMPLE_RATE;
  }
  const cpu = process.cpuUsage(start);
  return audioSeconds / ((cpu.user + cpu.system) / 1e6);
}

const stream = testStream();
const paths = { masker: maskerPath, detector: detectorPath, naive: naivePath };
for (const make of Object.values(paths)) measure(make, stream.subarray(0, 10 * SAMPLE_RATE)); // warm-up: let the JIT settle
const masker = measure(maskerPath, stream);
const detector = measure(detectorPath, stream);
const naive = measure(naivePath, stream);
const round = (x: number): string => Math.round(x).toLocaleString('en-US');
console.log(`detect+mask (μ-law decode, masker, encode; 20 ms frames): ${round(masker)} real-time channels per core`);
console.log(`detect only (μ-law decode, detector, encode): ${round(detector)} real-time channels per core`);
console.log(`naive single-loop Goertzel baseline (decode, 8 separate filter loops, encode): ${round(naive)} real-time channels per core`);
console.log(`ratio to naive: detect+mask ${(masker / naive).toFixed(2)}, detect only ${(detector / naive).toFixed(2)}`);
console.log(
  JSON.stringify({
    channelsPerCore: Math.round(masker),
    detectOnlyChannelsPerCore: Math.round(detector),
    naiveChannelsPerCore: Math.round(naive),
    ratio: Number((masker / naive).toFixed(2)),
    detectOnlyRatio: Number((detector / naive).toFixed(2)),
  }),
);
