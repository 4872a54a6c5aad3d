import type { DtmfDigit } from './types.js';

/** Bins 0–3: the low (row) group; bins 4–7: the high (column) group. */
export const DTMF_FREQUENCIES: readonly number[] = [697, 770, 852, 941, 1209, 1336, 1477, 1633];

/** Digit at row `low` (0–3), column `high` (0–3): index `low * 4 + high`. */
const KEYPAD: readonly DtmfDigit[] = ['1', '2', '3', 'A', '4', '5', '6', 'B', '7', '8', '9', 'C', '*', '0', '#', 'D'];

export function digitAt(low: number, high: number): DtmfDigit {
  return KEYPAD[low * 4 + high];
}

/** The [low, high] frequencies of a digit. */
export function digitFrequencies(digit: DtmfDigit): [number, number] {
  const index = KEYPAD.indexOf(digit);
  if (index < 0) throw new RangeError('not a DTMF digit');
  return [DTMF_FREQUENCIES[index >> 2], DTMF_FREQUENCIES[4 + (index & 3)]];
}
