import { createToneMasker, type DtmfDigit, type MaskFill, type SampleRate, type ToneMaskerOptions } from '../dsp/index.js';
import { detect, digitsOf } from '../dsp/detect-events.js';
import { leaks, MASKING_LEAK_CASES, passedTones } from '../dsp/leak-meter.js';
import { addNoise, concat, digitTone, keypresses, silence, toInt16, type ToneShape } from '../dsp/signals.js';
import { independentDecoderAvailable, multimonDigits, soxResample } from './independent-decoder.js';

/**
 * The masking battery, run on this build: the Q.24 receiver figures and the masking leak, measured
 * the way the DSP tests measure them (the same signals and leak meter), plus curves for the report.
 * Synthetic signals only: no card number is ever keyed.
 */

const ALL_DIGITS: DtmfDigit[] = ['1', '2', '3', 'A', '4', '5', '6', 'B', '7', '8', '9', 'C', '*', '0', '#', 'D'];
/** Every key twice, in two orders: what the leak is measured on. */
export const LEAK_DIGITS = '0123456789*#ABCD' + 'D#C*B9A876543210';
export const LEAK_LIMIT_MS = 1;
export const LOOKAHEAD_LIMIT_MS = 20;

export interface Point {
  x: number;
  y: number;
}

export interface BatteryCheck {
  name: string;
  requirement: string;
  measured: string;
  pass: boolean;
}

export interface LeakCase {
  name: string;
  perDigitMs: number[];
  maxMs: number;
}

export interface Battery {
  checks: BatteryCheck[];
  /** Share of the 16 keys detected (0–1) against level per tone (dBm0), tone length (ms) and frequency offset (%). */
  levelCurve: Point[];
  durationCurve: Point[];
  deviationCurve: Point[];
  leak: LeakCase[];
  lookaheadMs: number;
  independent: { available: false } | { available: true; inputDigits: number; keyed: number; masked: { fill: MaskFill; digits: number }[] };
}

/** The battery's signal makers and runners at one rate: every case is defined in ms and dBm0, so it is the same case at 8 and 16 kHz. */
function atRate(sampleRate: SampleRate) {
  const tone = (digit: DtmfDigit, ms: number, shape: ToneShape = {}) => digitTone(digit, ms, { ...shape, sampleRate });
  const gap = (ms: number) => silence(ms, sampleRate);
  const run = (samples: Int16Array) => detect(samples, undefined, sampleRate);
  const single = (digit: DtmfDigit, ms: number, shape: ToneShape = {}, leadMs = 20) => toInt16(concat(gap(leadMs), tone(digit, ms, shape), gap(80)));
  /** Share of the 16 keys each detected exactly once, alone, as the right digit. */
  const detectedShare = (signal: (digit: DtmfDigit, k: number) => Int16Array) =>
    ALL_DIGITS.filter((digit, k) => digitsOf(run(signal(digit, k))) === digit).length / ALL_DIGITS.length;
  const accepted = (shape: ToneShape, ms = 50) => detectedShare((d) => single(d, ms, shape));
  const aligned = (ms: number) => detectedShare((d, k) => single(d, ms, { phase: k * 0.7 }, 10 + k * 0.3125));
  const mask = (input: Int16Array, options: ToneMaskerOptions) => {
    const masker = createToneMasker({ ...options, sampleRate });
    const output = new Int16Array(input.length);
    const frame = sampleRate / 50;
    for (let at = 0; at < input.length; at += frame) masker.process(input.subarray(at, at + frame), output.subarray(at, at + frame));
    return { output, masker };
  };
  /** What the 8 kHz judges hear: wideband output is first brought to 8 kHz by sox. */
  const narrow = (samples: Int16Array) => soxResample(samples, sampleRate, 8000);
  return { tone, gap, run, single, detectedShare, accepted, aligned, mask, narrow };
}

const range = (from: number, to: number, step: number): number[] => Array.from({ length: Math.round((to - from) / step) + 1 }, (_, i) => from + i * step);

function leakCase(r: ReturnType<typeof atRate>, sampleRate: SampleRate, [name, shape, noiseDbm0]: (typeof MASKING_LEAK_CASES)[number]): LeakCase & { lookahead: number; unmaskedMinMs: number } {
  const { signal, spans } = keypresses(LEAK_DIGITS, { ...shape, sampleRate });
  const tones = toInt16(signal);
  const input = noiseDbm0 === undefined ? tones : toInt16(addNoise(signal, noiseDbm0, 3));
  const { output, masker } = r.mask(input, { fill: 'silence' });
  const perDigitMs = leaks(passedTones(tones, input, output, masker.lookaheadSamples), spans, sampleRate);
  // The meter is live: the unmasked input leaks whole tones.
  const unmaskedMinMs = Math.min(...leaks(tones, spans, sampleRate));
  return { name, perDigitMs, maxMs: Math.max(...perDigitMs), lookahead: masker.lookaheadSamples, unmaskedMinMs };
}

const every = (cond: boolean[]): boolean => cond.every(Boolean);
const pct = (share: number): string => `${Math.round(share * 100)}%`;

/** The pass/fail checks at one rate, named with the rate suffix `suffix` (empty at 8 kHz, where the report has always had them). */
function batteryChecks(sampleRate: SampleRate, suffix: string): { checks: BatteryCheck[]; leak: LeakCase[]; lookaheadMs: number; independent: Battery['independent'] } {
  const checks: BatteryCheck[] = [];
  const check = (name: string, requirement: string, measured: string, pass: boolean) => checks.push({ name: name + suffix, requirement, measured, pass });
  const r = atRate(sampleRate);
  const { accepted, aligned, tone, gap, run } = r;

  const rejected = (shape: ToneShape, ms = 50) => 1 - accepted(shape, ms);
  const levels = [0, -12, -25].map((levelDbm0) => accepted({ levelDbm0 }));
  const quiet = rejected({ levelDbm0: -55 });
  check('Level range', 'detect 0 to −25 dBm0 per tone; not −55 dBm0', `${levels.map(pct).join(' / ')} detected at 0 / −12 / −25 dBm0; ${pct(quiet)} rejected at −55`, every([...levels.map((s) => s === 1), quiet === 1]));

  const near = [-0.015, 0.015].map((deviation) => accepted({ deviation }, 60));
  const far = [-0.035, 0.035].map((deviation) => rejected({ deviation }, 60));
  check('Frequency tolerance', 'accept ±1.5%, reject ±3.5%', `${near.map(pct).join(' / ')} accepted at −1.5 / +1.5%; ${far.map(pct).join(' / ')} rejected at −3.5 / +3.5%`, every([...near, ...far].map((s) => s === 1)));

  const long = aligned(40);
  const short = [23, 20].map((ms) => 1 - aligned(ms));
  check('Tone duration', 'accept 40 ms, reject 23 ms or less (any alignment and phase)', `${pct(long)} accepted at 40 ms; ${short.map(pct).join(' / ')} rejected at 23 / 20 ms`, every([long === 1, ...short.map((s) => s === 1)]));

  const paused = ALL_DIGITS.filter((d) => digitsOf(run(toInt16(concat(gap(10), tone(d, 40), gap(40), tone(d, 40, { phase: 1 }), gap(80))))) === d + d).length / 16;
  const bridged = ALL_DIGITS.filter((d) => digitsOf(run(toInt16(concat(gap(10), tone(d, 40), gap(10), tone(d, 40, { phase: 2 }), gap(80))))) === d).length / 16;
  check('Pauses and interruptions', '40 ms pause: two digits; 10 ms break: one digit', `${pct(paused)} split at 40 ms; ${pct(bridged)} bridged at 10 ms`, paused === 1 && bridged === 1);

  const twist = [accepted({ twistDb: -8, levelDbm0: -4 }), accepted({ twistDb: 4, levelDbm0: -4 })];
  check('Twist', 'accept low group 8 dB louder and high group 4 dB louder', `${twist.map(pct).join(' / ')} detected`, twist.every((s) => s === 1));

  const noiseDbm0 = -20 + 10 * Math.log10(2) - 15;
  const burst = concat(gap(40), ...ALL_DIGITS.flatMap((d, k) => [tone(d, 40, { levelDbm0: -20, phase: k }), gap(40)]));
  const snr = [1, 2, 3].map((seed) => digitsOf(run(toInt16(addNoise(burst, noiseDbm0, seed)))) === ALL_DIGITS.join(''));
  check('Noise', 'all digits at 15 dB SNR (−20 dBm0 tones, white noise)', `${snr.filter(Boolean).length} of 3 noise seeds: every digit, nothing extra`, snr.every(Boolean));

  const noise = run(toInt16(addNoise(gap(5000), -10, 9))).length;
  check('No false digits in noise', 'nothing detected in 5 s of −10 dBm0 white noise', `${noise} digits`, noise === 0);

  const leakRuns = MASKING_LEAK_CASES.map((c) => leakCase(r, sampleRate, c));
  const worst = Math.max(...leakRuns.map((c) => c.maxMs));
  check('Masking leak', `at most ${LEAK_LIMIT_MS} ms of tone above −45 dBm0 per digit`, `worst ${worst.toFixed(2)} ms over ${leakRuns.length} signal cases × ${LEAK_DIGITS.length} digits (the same meter reads at least ${Math.min(...leakRuns.map((c) => c.unmaskedMinMs)).toFixed(0)} ms per digit on the unmasked input)`, worst <= LEAK_LIMIT_MS);
  const lookaheadMs = leakRuns[0].lookahead / (sampleRate / 1000);
  check('Added latency', `lookahead at most ${LOOKAHEAD_LIMIT_MS} ms`, `${lookaheadMs} ms`, lookaheadMs <= LOOKAHEAD_LIMIT_MS);

  let independent: Battery['independent'] = { available: false };
  if (independentDecoderAvailable()) {
    const input = toInt16(keypresses(LEAK_DIGITS, { sampleRate }).signal);
    const inputDigits = multimonDigits(r.narrow(input)).length;
    const masked = (['comfort-noise', 'silence', 'beep'] as MaskFill[]).map((fill) => ({ fill, digits: multimonDigits(r.narrow(r.mask(input, { fill }).output)).length }));
    independent = { available: true, inputDigits, keyed: LEAK_DIGITS.length, masked };
    check(
      'Independent decoder (multimon-ng)',
      sampleRate === 8000 ? 'decodes every keyed digit of the input and none of the masked output' : 'after sox brings both to 8 kHz: decodes every keyed digit of the input and none of the masked output',
      `${inputDigits} of ${LEAK_DIGITS.length} decoded in the input; ${masked.map((m) => `${m.digits} with ${m.fill}`).join(', ')}`,
      inputDigits === LEAK_DIGITS.length && masked.every((m) => m.digits === 0),
    );
  }
  return { checks, leak: leakRuns.map(({ name, perDigitMs, maxMs }) => ({ name, perDigitMs, maxMs })), lookaheadMs, independent };
}

/**
 * The battery at 8 kHz with its curves, and the same checks at 16 kHz next to them (named
 * "… at 16 kHz"), since wideband streams are masked natively at their own rate.
 */
export function runBattery(): Battery {
  const narrowband = batteryChecks(8000, '');
  const wideband = batteryChecks(16000, ' at 16 kHz');
  const { accepted, aligned } = atRate(8000);
  return {
    checks: [...narrowband.checks, ...wideband.checks],
    levelCurve: range(-50, 0, 2.5).map((x) => ({ x, y: accepted({ levelDbm0: x }) })),
    durationCurve: range(16, 50, 2).map((x) => ({ x, y: aligned(x) })),
    deviationCurve: range(-5, 5, 0.5).map((x) => ({ x, y: accepted({ deviation: x / 100 }, 60) })),
    leak: narrowband.leak,
    lookaheadMs: narrowband.lookaheadMs,
    independent: narrowband.independent,
  };
}
