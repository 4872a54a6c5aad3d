import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CVV_MASK, PAN_MASK, luhnValid, scrub } from '../../src/audit/scrubber.js';

const TEST_PANS = ['4111111111111111', '5555555555554444', '378282246310005', '6011111111111117', '4242424242424242', '3530111333300000', '36227206271667', '6200000000000005'];

function luhnCheckDigit(body: string): string {
  for (let d = 0; d <= 9; d++) if (luhnValid(body + d)) return String(d);
  throw new Error('unreachable');
}

const digit = fc.constantFrom(...'0123456789'.split(''));
/** A Luhn-valid number of 13 to 19 digits (not a 13-digit run starting with 1, which no brand issues). */
const luhnRun = fc
  .integer({ min: 13, max: 19 })
  .chain((length) => fc.array(digit, { minLength: length - 1, maxLength: length - 1 }))
  .map((body) => body.join('') + luhnCheckDigit(body.join('')))
  .filter((n) => !(n.length === 13 && n[0] === '1'));
const separator = fc.constantFrom('', ' ', '-');
const withSeparators = (digits: string) =>
  fc.array(separator, { minLength: digits.length - 1, maxLength: digits.length - 1 }).map((seps) =>
    digits
      .split('')
      .map((d, i) => d + (seps[i] ?? ''))
      .join(''),
  );
const textWithoutDigits = fc.string({ maxLength: 30 }).map((s) => s.replace(/[\d]/g, 'x'));

describe('scrubber', () => {
  it('masks every test PAN, bare or separated', () => {
    for (const pan of TEST_PANS) {
      expect(scrub(`card ${pan} ok`).text).toBe(`card ${PAN_MASK} ok`);
      const spaced = pan.replace(/(\d{4})(?=\d)/g, '$1 ');
      expect(scrub(`card ${spaced} ok`).text).toBe(`card ${PAN_MASK} ok`);
      const dashed = pan.replace(/(\d{4})(?=\d)/g, '$1-');
      expect(scrub(dashed).hits).toEqual(['pan']);
    }
  });

  it('masks random Luhn-valid runs with random separators embedded in random text', () => {
    fc.assert(
      fc.property(textWithoutDigits, luhnRun.chain(withSeparators), textWithoutDigits, (before, run, after) => {
        const text = `${before} ${run} ${after}`;
        const result = scrub(text);
        expect(result.hits).toContain('pan');
        expect(result.text.replace(/\D/g, '')).not.toContain(run.replace(/\D/g, ''));
      }),
      { numRuns: 500 },
    );
  });

  it('leaves non-Luhn runs untouched', () => {
    fc.assert(
      fc.property(luhnRun, fc.integer({ min: 1, max: 9 }), (valid, bump) => {
        const last = (Number(valid[valid.length - 1]) + bump) % 10;
        const invalid = valid.slice(0, -1) + last;
        const text = `id ${invalid} end`;
        expect(scrub(text)).toEqual({ text, hits: [] });
      }),
      { numRuns: 300 },
    );
  });

  it('leaves timestamps, epoch milliseconds, UUIDs and short numbers untouched', () => {
    const samples = [
      '{"level":30,"time":"2026-11-23T03:16:14.123Z","msg":"x"}',
      '{"at":1763867774123}',
      'call CA0123456789abcdef0123456789abcdef 550e8400-e29b-41d4-a716-446655440000',
      'port 8080 took 12 ms, 3 of 4 digits',
    ];
    for (const text of samples) expect(scrub(text, { json: text.startsWith('{') })).toEqual({ text, hits: [] });
  });

  it('finds a PAN followed by other separated digits', () => {
    expect(scrub('4111 1111 1111 1111 2030').text).toBe(`${PAN_MASK} 2030`);
  });

  it('does not mask runs longer than 19 digits without separators', () => {
    const text = '41111111111111110000000';
    expect(scrub(text).hits).toEqual([]);
  });

  it('masks CVV-like values next to card keywords', () => {
    const cases = ['cvv: 123', 'CVC=9876', '"cvv":"123"', 'security code is 737', '"securityCode":"042"', 'card_cvv 555', '{\\"csc\\":\\"321\\"}'];
    for (const text of cases) {
      const result = scrub(text);
      expect(result.hits, text).toEqual(['cvv']);
      expect(result.text, text).toContain(CVV_MASK);
      expect(result.text.replace(CVV_MASK, ''), text).not.toMatch(/\d{3}/);
    }
    expect(scrub('cvv attempts 12345').hits).toEqual([]);
    expect(scrub('took 123 ms').hits).toEqual([]);
  });

  it('keeps JSON parseable when a masked value was a bare number', () => {
    const line = JSON.stringify({ n: 4111111111111111, note: 'a:4242424242424242,', cvv: 123 });
    const result = scrub(line, { json: true });
    expect(result.hits).toEqual(['pan', 'pan', 'cvv']);
    expect(JSON.parse(result.text)).toEqual({ n: PAN_MASK, note: `a:${PAN_MASK},`, cvv: CVV_MASK });
  });

  it('is quick on ordinary lines', () => {
    const line = JSON.stringify({ level: 30, time: new Date(0).toISOString(), callSid: 'CA' + 'a'.repeat(32), msg: 'media frame relayed', seq: 123456 });
    const started = performance.now();
    for (let i = 0; i < 100_000; i++) scrub(line, { json: true });
    const perLineUs = ((performance.now() - started) * 1000) / 100_000;
    console.info(`scrubber: ${perLineUs.toFixed(2)} µs per clean line`);
  });
});

describe('scrubber and hex identifiers', () => {
  it('leaves digit runs inside hashes and SIDs alone, but not a PAN glued to a short word', () => {
    const mac = 'a4' + '4111111111111111' + 'e'.repeat(46);
    expect(scrub(`"mac":"${mac}"`).hits).toEqual([]);
    expect(scrub(`CA${'4111111111111111'}abcdef0123456789`).hits).toEqual([]);
    expect(scrub('pan=4111111111111111;').hits).toEqual(['pan']);
  });
});
