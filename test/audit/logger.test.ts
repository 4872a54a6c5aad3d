import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { createLogger, MAX_LINE_CHARS, onScrubberHit, isScrubbingLogger, silentLogger } from '../../src/audit/logger.js';
import { ToneguardError } from '../../src/errors.js';
import type { ScrubKind } from '../../src/audit/scrubber.js';

function capture(onScrub?: (hits: readonly ScrubKind[]) => void) {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(line) }, onScrub });
  return { logger, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('logger redaction', () => {
  it('removes sensitive keys at any of the first three levels', () => {
    const { logger, parsed } = capture();
    logger.info(
      {
        pan: '4111111111111111',
        cvv: '123',
        card: { card_number: '5555555555554444', securityCode: '123', brand: 'visa' },
        req: { headers: { authorization: 'Bearer x', 'x-twilio-signature': 'sig', cookie: 'c' } },
        nested: { deeper: { password: 'p', digits: '1234', last4: '4444' } },
      },
      'hello',
    );
    const [line] = parsed();
    expect(line).not.toHaveProperty('pan');
    expect(line).not.toHaveProperty('cvv');
    expect(line.card).toEqual({ brand: 'visa' });
    expect(line.req).toEqual({ headers: {} });
    expect(line.nested).toEqual({ deeper: { last4: '4444' } });
  });
});

describe('logger redaction at depth', () => {
  it('removes sensitive keys at any depth and in arrays, case-insensitively, without touching the caller object', () => {
    const { logger, parsed } = capture();
    const input = { a: { b: { c: { d: { PAN: '4111111111111111', keep: 1 } } } }, list: [{ cvv: '123', brand: 'amex' }] };
    const before = JSON.stringify(input);
    logger.info(input, 'deep');
    expect(parsed()[0]).toMatchObject({ a: { b: { c: { d: { keep: 1 } } } }, list: [{ brand: 'amex' }] });
    expect(JSON.stringify(parsed()[0])).not.toMatch(/PAN|cvv/);
    expect(JSON.stringify(input)).toBe(before);
  });

  it('applies to child bindings too', () => {
    const { logger, lines } = capture();
    logger.child({ digits: '4242', callSid: 'CA1' }).info('child');
    expect(JSON.parse(lines[0])).toMatchObject({ callSid: 'CA1' });
    expect(lines[0]).not.toContain('digits');
  });
});

describe('logger scrubber', () => {
  it('masks PANs and CVVs the redaction missed, and reports each hit', () => {
    const hits: ScrubKind[] = [];
    const { logger, lines } = capture((h) => hits.push(...h));
    logger.info({ note: 'caller said 4111 1111 1111 1111', misc: { ccv: 1, extra: 'cvv=123' } }, 'odd');
    logger.info('nothing here 12345');
    expect(lines.join('')).not.toMatch(/4111 1111|cvv=123/);
    expect(hits).toEqual(['pan', 'cvv']);
    expect(() => lines.map((l) => JSON.parse(l))).not.toThrow();
  });

  it('accepts listeners added later, only on its own loggers', () => {
    const { logger } = capture();
    const hits: ScrubKind[] = [];
    expect(isScrubbingLogger(logger)).toBe(true);
    expect(onScrubberHit(logger, (h) => hits.push(...h))).toBe(true);
    logger.child({ module: 'x' }).warn({ text: 'x 5555555555554444' }, 'leak');
    expect(hits).toEqual(['pan']);
    expect(onScrubberHit(pino({ level: 'silent' }), () => undefined)).toBe(false);
    expect(isScrubbingLogger(silentLogger())).toBe(true);
  });
});

describe('error serialisation', () => {
  it('keeps type, code and message, scrubbed, and stack frames only', () => {
    const { logger, parsed } = capture();
    const err = new ToneguardError('card_invalid', 'card 4242424242424242 refused');
    logger.error({ err }, 'failed');
    const [line] = parsed();
    const logged = line.err as Record<string, string>;
    expect(logged.type).toBe('ToneguardError');
    expect(logged.code).toBe('card_invalid');
    expect(logged.message).toBe('card [REDACTED:pan] refused');
    expect(logged.stack).toMatch(/^\s+at /);
    expect(JSON.stringify(line)).not.toContain('4242424242424242');
  });

  it('serialises causes and non-errors', () => {
    const { logger, parsed } = capture();
    logger.warn({ err: new Error('outer', { cause: new TypeError('inner') }) }, 'a');
    logger.warn({ err: 'just text' }, 'b');
    const [a, b] = parsed();
    expect((a.err as { cause: { type: string } }).cause.type).toBe('TypeError');
    expect(b.err).toEqual({ type: 'string', message: 'just text' });
  });
});

describe('logger line cap', () => {
  it('replaces an over-long line by a short one with its level, size and scrubbed head', () => {
    const { logger, lines } = capture();
    logger.warn({ note: `4111111111111111 ${'y'.repeat(20_000)}` }, 'long');
    expect(lines).toHaveLength(1);
    expect(lines[0].length).toBeLessThanOrEqual(MAX_LINE_CHARS);
    const line = JSON.parse(lines[0]);
    expect(line).toMatchObject({ level: 40, msg: 'log line truncated', truncated: true });
    expect(line.chars).toBeGreaterThan(20_000);
    expect(lines[0]).not.toContain('4111111111111111');
    expect(line.head).toContain('[REDACTED:pan]');
  });

  it('leaves ordinary lines alone', () => {
    const { logger, parsed } = capture();
    logger.info({ n: 1 }, 'short');
    expect(parsed()[0]).toMatchObject({ n: 1, msg: 'short' });
  });
});
