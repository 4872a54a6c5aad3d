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

describe('scrubber and hex identifiers: only real hex tokens are carved out', () => {
  it('masks a PAN wrapped in hex letters that do not make a hex identifier', () => {
    for (const wrapped of ['abc4111111111111111def', 'abcdef4111111111111111abcdef', 'ABC4111111111111111DEF', 'fe4111111111111111', '4111111111111111abcd']) {
      const result = scrub(JSON.stringify({ transactionId: wrapped }), { json: true });
      expect(result.hits, wrapped).toEqual(['pan']);
      expect(result.text, wrapped).not.toContain('4111111111111111');
    }
  });

  it('masks a PAN inside a mixed-case or letterless word of an identifier length', () => {
    expect(scrub(`id=aBcD${'4111111111111111'}${'e'.repeat(12)}`).hits).toEqual(['pan']);
    expect(scrub(`id=xyz${'4111111111111111'}${'q'.repeat(11)}`).hits).toEqual(['pan']);
  });

  it('keeps hashes, MACs and SIDs of the usual lengths, delimited', () => {
    const sha1 = `${'4111111111111111'}${'ab'.repeat(12)}`;
    const sha256 = `${'5555555555554444'}${'c0ffee'.repeat(8)}`;
    expect(sha1).toHaveLength(40);
    expect(sha256).toHaveLength(64);
    for (const text of [`"mac":"${sha256}"`, `/v1/calls/CA${'4111111111111111'}abcdef0123456789/captures`, `sha1 ${sha1}.`, `MZ${'4111111111111111'}0123456789ABCDEF`]) {
      expect(scrub(text).hits, text).toEqual([]);
    }
  });
});

describe('scrubber cost is linear in the line (operation count, no clock)', () => {
  const visitsFor = (text: string) => {
    const meter = { visits: 0 };
    scrub(text, { json: true, meter });
    return meter.visits;
  };
  /** The attack's shape: a log line whose path is hundreds of card-like segments. */
  const pathLine = (segments: number) => JSON.stringify({ level: 30, msg: 'http', path: '/x'.concat('/4111111111111111'.repeat(segments)) });
  /** One long word of hex letters and card-like runs: each run's enclosing word is the whole line. */
  const wordLine = (segments: number) => JSON.stringify({ id: 'a4111111111111111'.repeat(segments) });

  it.each([
    ['card-like path segments', pathLine],
    ['card-like runs in one long word', wordLine],
  ])('%s: 8 times the input costs at most 8 times the work, and each character is visited a bounded number of times', (_name, make) => {
    const small = make(100);
    const large = make(800);
    const smallVisits = visitsFor(small);
    const largeVisits = visitsFor(large);
    expect(smallVisits).toBeGreaterThan(0);
    expect(largeVisits / smallVisits).toBeLessThan(8.5);
    expect(largeVisits).toBeLessThan(4 * large.length);
  });
});
