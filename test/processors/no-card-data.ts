import { expect } from 'vitest';

/**
 * Fails when any line holds one of the secrets, or any 13-19 digit run that passes Luhn. Short
 * secrets (a CVV) would match timestamps, so they count only as a whole quoted value.
 */
export function assertNoCardData(lines: readonly string[], secrets: readonly string[]): void {
  for (const line of lines) {
    for (const secret of secrets) {
      const needle = secret.length >= 6 ? secret : `"${secret}"`;
      expect(line.includes(needle), 'a captured value appears in output').toBe(false);
    }
    for (const run of line.match(/(?<!\d)\d{13,19}(?!\d)/g) ?? []) expect(luhn(run), 'a card-like number appears in output').toBe(false);
  }
}

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = digits.length - 1, double = false; i >= 0; i--, double = !double) {
    let d = digits.charCodeAt(i) - 48;
    if (double && (d *= 2) > 9) d -= 9;
    sum += d;
  }
  return sum % 10 === 0;
}
