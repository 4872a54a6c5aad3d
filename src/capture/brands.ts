import type { CardBrand } from '../config/schema.js';
import { numberAt, type DigitInput } from './digits.js';

export type { CardBrand } from '../config/schema.js';

/** A contiguous range of IIN prefixes, all of the same number of digits. */
export interface IinRange {
  brand: CardBrand;
  from: string;
  to: string;
}

export const CARD_MIN_LENGTH = 12;
export const CARD_MAX_LENGTH = 19;

const lengths = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

export const BRAND_LENGTHS: Readonly<Record<CardBrand, readonly number[]>> = {
  visa: [13, 16, 19],
  mastercard: [16],
  amex: [15],
  discover: lengths(16, 19),
  jcb: lengths(16, 19),
  diners: lengths(14, 19),
  unionpay: lengths(16, 19),
  maestro: lengths(12, 19),
};

const r = (brand: CardBrand, from: string, to = from): IinRange => ({ brand, from, to });

/** The IIN table. When ranges of different lengths match, the longest prefix wins. */
export const IIN_TABLE: readonly IinRange[] = [
  r('visa', '4'),
  r('mastercard', '51', '55'),
  r('mastercard', '2221', '2720'),
  r('amex', '34'),
  r('amex', '37'),
  r('discover', '6011'),
  r('discover', '644', '649'),
  r('discover', '65'),
  r('jcb', '3528', '3589'),
  r('diners', '300', '305'),
  r('diners', '36'),
  r('diners', '38'),
  r('unionpay', '62'),
  r('maestro', '50'),
  r('maestro', '56', '58'),
  r('maestro', '6304'),
  r('maestro', '67'),
];

/**
 * The brand of a full or partial card number, by longest matching IIN prefix; null while no
 * range matches the digits typed so far. Ranges are disjoint across prefix lengths for
 * different brands, so a brand found on a partial number does not change as digits are added.
 */
export function detectBrand(pan: DigitInput): CardBrand | null {
  let best: IinRange | null = null;
  for (const entry of IIN_TABLE) {
    const n = entry.from.length;
    if (n > pan.length || (best && best.from.length >= n)) continue;
    const prefix = numberAt(pan, 0, n);
    if (prefix >= Number(entry.from) && prefix <= Number(entry.to)) best = entry;
  }
  return best?.brand ?? null;
}

export function brandMaxLength(brand: CardBrand): number {
  const allowed = BRAND_LENGTHS[brand];
  return allowed[allowed.length - 1] ?? CARD_MAX_LENGTH;
}

/** A CVV is 4 digits for Amex and 3 for every other brand. */
export function cvvLengthFor(brand: CardBrand): number {
  return brand === 'amex' ? 4 : 3;
}
