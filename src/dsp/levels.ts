/** The only sample rate the telephony path carries. */
export const SAMPLE_RATE = 8000;

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
