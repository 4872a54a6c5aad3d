import { describe, expect, it } from 'vitest';
import type { DigitEvent, DtmfDigit } from '../../src/dsp/index.js';
import { findCards, RUN_GAP_MS } from '../../src/scan/findings.js';

/** Events for `keys`, 70 ms tones 80 ms apart, starting at `startMs`; then the next entry after its pause. */
function keyed(...entries: [pauseMs: number, keys: string][]): DigitEvent[] {
  const events: DigitEvent[] = [];
  let atMs = 0;
  for (const [pauseMs, keys] of entries) {
    atMs += pauseMs;
    for (const key of keys) {
      events.push({ digit: key as DtmfDigit, startSample: atMs * 8, endSample: (atMs + 70) * 8 });
      atMs += 150;
    }
    atMs -= 80;
  }
  return events;
}

const NOW = Date.UTC(2026, 11, 1);

describe('card findings from keyed digits', () => {
  it('finds a card after a menu key in the same run, with its expiry and CVV in later runs', () => {
    const [card, ...rest] = findCards(keyed([1000, '14111111111111111'], [4000, '0330'], [3500, '737']), NOW);
    expect(rest).toEqual([]);
    expect(card).toMatchObject({ brand: 'visa', last4: '1111', digitCount: 16, startMs: 1150, endMs: 1150 + 15 * 150 + 70 });
    expect(card.expiry).toEqual({ startMs: 7470, endMs: 7470 + 3 * 150 + 70 });
    expect(card.cvv?.endMs).toBe(card.cvv!.startMs + 2 * 150 + 70);
    expect(card.sensitiveSpans).toHaveLength(3);
    expect(card.sensitiveSpans[0]).toEqual({ startMs: 1000, endMs: card.endMs });
  });

  it('reads an expiry keyed straight after the card, and counts an expired one (old recordings)', () => {
    const [card] = findCards(keyed([0, '5555555555554444' + '0119' + '123']), NOW);
    expect(card).toMatchObject({ brand: 'mastercard', last4: '4444', digitCount: 16 });
    expect(card.expiry).toBeDefined();
    expect(card.cvv).toBeDefined();
    expect(card.sensitiveSpans).toHaveLength(1);
  });

  it('takes a four-digit CVV for Amex, none for a month 13', () => {
    const [amex] = findCards(keyed([0, '378282246310005'], [1000, '1130'], [1000, '1234']), NOW);
    expect(amex).toMatchObject({ brand: 'amex', last4: '0005', digitCount: 15 });
    expect(amex.cvv).toBeDefined();
    const [visa] = findCards(keyed([0, '4111111111111111'], [1000, '1330']), NOW);
    expect(visa.expiry).toBeUndefined();
  });

  it('ends a run at a gap over RUN_GAP_MS or a non-numeric key, so a split number is not a card', () => {
    expect(findCards(keyed([0, '41111111'], [RUN_GAP_MS + 1, '11111111']), NOW)).toEqual([]);
    expect(findCards(keyed([0, '41111111#11111111']), NOW)).toEqual([]);
    expect(findCards(keyed([0, '41111111'], [RUN_GAP_MS - 100, '11111111']), NOW)).toHaveLength(1);
  });

  it('reports nothing for digit runs that fail Luhn, match no brand or are too short', () => {
    expect(findCards(keyed([0, '4111111111111112']), NOW)).toEqual([]);
    expect(findCards(keyed([0, '9111111111111111']), NOW)).toEqual([]);
    expect(findCards(keyed([0, '411111111111']), NOW)).toEqual([]);
  });

  it('finds two cards in one call, and stops the first one\'s follow-up at the second', () => {
    const cards = findCards(keyed([0, '4111111111111111'], [1500, '6011111111111117'], [1000, '1229']), NOW);
    expect(cards.map((c) => c.brand)).toEqual(['visa', 'discover']);
    expect(cards[0].expiry).toBeUndefined();
    expect(cards[1].expiry).toBeDefined();
  });
});
