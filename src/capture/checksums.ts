import { allDigits, digitAt, type DigitInput } from './digits.js';

/** The Luhn (mod 10) check used by card numbers and optionally by generic digit fields. */
export function luhnValid(digits: DigitInput): boolean {
  if (digits.length === 0 || !allDigits(digits)) return false;
  let sum = 0;
  for (let i = digits.length - 1, double = false; i >= 0; i--, double = !double) {
    let d = digitAt(digits, i);
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

const ABA_WEIGHTS = [3, 7, 1, 3, 7, 1, 3, 7, 1] as const;

/** The ABA routing transit number checksum: 3-7-1 weights, sum divisible by 10. */
export function abaRoutingValid(digits: DigitInput): boolean {
  if (digits.length !== 9 || !allDigits(digits)) return false;
  let sum = 0;
  ABA_WEIGHTS.forEach((w, i) => (sum += w * digitAt(digits, i)));
  return sum % 10 === 0;
}
