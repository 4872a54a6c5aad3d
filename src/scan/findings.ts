import { BRAND_LENGTHS, cvvLengthFor, type CardBrand } from '../capture/brands.js';
import { validateCardNumber, validateCvv, validateExpiry } from '../capture/validators.js';
import type { DigitEvent } from '../dsp/index.js';

/**
 * Turns the digits a detector heard in one channel into card findings, without ever returning a
 * digit beyond the last four. Pure: events in, findings out.
 *
 * Grouping: numeric keypresses whose gap (one tone's end to the next one's start) is at most
 * RUN_GAP_MS form a run; a longer gap or a non-numeric key (*, #, A–D) ends it. Inside a run, a card
 * is a stretch of 13–19 digits that passes the capture validators (Luhn, an IIN brand, that brand's
 * lengths). After a card, within FOLLOW_UP_MS of its last digit and before the next card, the next
 * four digits of one run are an expiry when they are MMYY-shaped (a month 01–12; expired cards count:
 * these are old recordings), and then the brand's CVV length of one run is a CVV. A redacted copy
 * masks every run that held any of them, whole.
 */

export const RUN_GAP_MS = 3000;
export const FOLLOW_UP_MS = 30_000;
const CARD_MIN_DIGITS = 13;
/** Lengths tried at each start, most common first, so an expiry keyed straight after a card is not swallowed. */
const LENGTH_PREFERENCE = [16, 15, 19, 14, 13, 17, 18];
const ALL_BRANDS = Object.keys(BRAND_LENGTHS) as CardBrand[];
const SAMPLES_PER_MS = 8;

export interface Span {
  startMs: number;
  endMs: number;
}

export interface CardFinding extends Span {
  brand: CardBrand;
  last4: string;
  digitCount: number;
  expiry?: Span;
  cvv?: Span;
  /** The keyed run that held the card, and the runs that held expiry and CVV: what a redacted copy must mask. */
  sensitiveSpans: Span[];
}

/** Digits as ASCII codes (zeroable), with their keypress times. */
interface Run {
  codes: Uint8Array;
  events: DigitEvent[];
}

const isNumeric = (digit: string): boolean => digit >= '0' && digit <= '9';
const toMs = (sample: number): number => Math.round(sample / SAMPLES_PER_MS);

function runsOf(events: readonly DigitEvent[]): Run[] {
  const runs: DigitEvent[][] = [];
  let current: DigitEvent[] = [];
  for (const event of events) {
    const last = current[current.length - 1];
    if (!isNumeric(event.digit) || (last && toMs(event.startSample) - toMs(last.endSample) > RUN_GAP_MS)) {
      if (current.length) runs.push(current);
      current = [];
    }
    if (isNumeric(event.digit)) current.push(event);
  }
  if (current.length) runs.push(current);
  return runs.map((run) => ({ events: run, codes: Uint8Array.from(run, (e) => e.digit.charCodeAt(0)) }));
}

function spanOf(events: readonly DigitEvent[]): Span {
  return { startMs: toMs(events[0].startSample), endMs: toMs(events[events.length - 1].endSample) };
}

interface Position {
  run: number;
  index: number;
}

interface CardAt {
  brand: CardBrand;
  start: Position;
  length: number;
}

/** The card starting at `index` of `codes`, trying lengths in LENGTH_PREFERENCE order. */
function cardStartingAt(codes: Uint8Array, index: number): { brand: CardBrand; length: number } | undefined {
  for (const length of LENGTH_PREFERENCE) {
    if (index + length > codes.length) continue;
    const result = validateCardNumber(codes.subarray(index, index + length), ALL_BRANDS);
    if (result.valid && result.brand) return { brand: result.brand, length };
  }
  return undefined;
}

function cardsIn(runs: readonly Run[]): CardAt[] {
  const cards: CardAt[] = [];
  runs.forEach((run, r) => {
    for (let i = 0; i + CARD_MIN_DIGITS <= run.codes.length; ) {
      const card = cardStartingAt(run.codes, i);
      if (!card) {
        i++;
        continue;
      }
      cards.push({ ...card, start: { run: r, index: i } });
      i += card.length;
    }
  });
  return cards;
}

/**
 * Reads `count` digits from `at` if they lie in one run, no later than `deadlineMs` and before
 * `stop`; skips to the next run when the current one is used up.
 */
function take(runs: readonly Run[], at: Position, count: number, deadlineMs: number, stop: Position | undefined): { codes: Uint8Array; events: DigitEvent[]; next: Position } | undefined {
  let { run, index } = at;
  while (run < runs.length && index >= runs[run].codes.length) {
    run++;
    index = 0;
  }
  if (run >= runs.length) return undefined;
  const end = index + count;
  if (end > runs[run].codes.length) return undefined;
  if (stop && (run > stop.run || (run === stop.run && end > stop.index))) return undefined;
  const events = runs[run].events.slice(index, end);
  if (toMs(events[0].startSample) > deadlineMs) return undefined;
  return { codes: runs[run].codes.subarray(index, end), events, next: { run, index: end } };
}

const expiryShaped = (mmyy: Uint8Array, nowMs: number): boolean => {
  const result = validateExpiry(mmyy, nowMs);
  return result.valid || result.error === 'expired';
};

/** Card findings in one channel's digit events (in time order). `nowMs` judges expiry dates. */
export function findCards(events: readonly DigitEvent[], nowMs: number): CardFinding[] {
  const runs = runsOf(events);
  const cards = cardsIn(runs);
  const findings = cards.map((card, k): CardFinding => {
    const run = runs[card.start.run];
    const cardEvents = run.events.slice(card.start.index, card.start.index + card.length);
    const span = spanOf(cardEvents);
    const last4 = String.fromCharCode(...run.codes.subarray(card.start.index + card.length - 4, card.start.index + card.length));
    const finding: CardFinding = { ...span, brand: card.brand, last4, digitCount: card.length, sensitiveSpans: [] };
    const runsUsed = new Set([card.start.run]);
    const stop = cards[k + 1]?.start;
    const deadline = span.endMs + FOLLOW_UP_MS;
    let at: Position = { run: card.start.run, index: card.start.index + card.length };
    const expiry = take(runs, at, 4, deadline, stop);
    if (expiry && expiryShaped(expiry.codes, nowMs)) {
      finding.expiry = spanOf(expiry.events);
      runsUsed.add(expiry.next.run);
      at = expiry.next;
    }
    const cvvLength = cvvLengthFor(card.brand);
    const cvv = take(runs, at, cvvLength, deadline, stop);
    if (cvv && validateCvv(cvv.codes, card.brand).valid) {
      finding.cvv = spanOf(cvv.events);
      runsUsed.add(cvv.next.run);
    }
    finding.sensitiveSpans = [...runsUsed].map((r) => spanOf(runs[r].events));
    return finding;
  });
  for (const run of runs) run.codes.fill(0);
  return findings;
}
