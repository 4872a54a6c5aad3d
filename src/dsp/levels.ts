import type { SampleRate } from './types.js';

/** The narrowband telephony rate: the default everywhere a rate is optional. */
export const SAMPLE_RATE = 8000;

export function isSampleRate(value: unknown): value is SampleRate {
  return value === 8000 || value === 16000;
}

/** The rate given, or 8000 if none; anything else is a RangeError (a caller's bug, not input). */
export function checkSampleRate(value: number | undefined): SampleRate {
  if (value === undefined) return SAMPLE_RATE;
  if (!isSampleRate(value)) throw new RangeError('sample rate must be 8000 or 16000');
  return value;
}

/** G.711 convention: a 0 dBm0 sine peaks 3.14 dB below full scale. */
export const DBM0_PEAK = 32768 * 10 ** (-3.14 / 20);

/** Peak amplitude of a sine at `levelDbm0`. */
export function dbm0ToPeak(levelDbm0: number): number {
  return DBM0_PEAK * 10 ** (levelDbm0 / 20);
}

/** Mean power (mean of x²) of a sine at `levelDbm0`. */
export function dbm0ToPower(levelDbm0: number): number {
  const peak = dbm0ToPeak(levelDbm0);
  return (peak * peak) / 2;
}

/** Level in dBm0 of a signal whose mean power (mean of x²) is `power`. */
export function powerToDbm0(power: number): number {
  return 10 * Math.log10(power / dbm0ToPower(0));
}
