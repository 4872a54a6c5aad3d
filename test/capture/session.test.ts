import { describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../../src/audit/types.js';
import { KEY_GRACE_MS, InlineCaptureSession, resolveFieldSpec, type CaptureSession, type FieldRequest } from '../../src/capture/index.js';
import { MemoryAuditSink } from '../../src/audit/types.js';
import { silentLogger } from '../../src/audit/logger.js';
import { AGENT, FakeClock, FakeTokenizer, captureConfig, flush, setup, typeKeys } from './fakes.js';

const VISA = '4111111111111111';
const MASTERCARD = '5555555555554444';
const AMEX = '378282246310005';

function start(fields: (string | FieldRequest)[], configOverrides: Record<string, unknown> = {}, options = {}) {
  const env = setup(configOverrides);
  const session = env.service.start({
    callSid: 'CA1',
    fields: fields.map((f) => (typeof f === 'string' ? { name: f } : f)),
    options,
    actor: AGENT,
  });
  const field = (name: string) => session.view().fields.find((f) => f.name === name)!;
  return { ...env, session, field };
}

const inline = (session: CaptureSession) => session as InlineCaptureSession;

describe('InlineCaptureSession on its own', () => {
  it('runs without the service', async () => {
    const config = captureConfig();
    const clock = new FakeClock();
    const tokenizer = new FakeTokenizer();
    const views: number[] = [];
    const session = new InlineCaptureSession(
      { callSid: 'CA9', actor: AGENT },
      {
        fields: [{ spec: resolveFieldSpec('ssn', config)!, mask: 'all', requireMatching: false }],
        maxAttempts: 3,
        firstDigitTimeoutMs: 1000,
        interDigitTimeoutMs: 1000,
        totalTimeoutMs: 10_000,
      },
      { audit: new MemoryAuditSink(), clock, logger: silentLogger(), tokenizer, onView: (v) => views.push(v.version) },
    );
    session.start();
    expect(session.maskPolicy()).toBe('all');
    typeKeys(session, '123456789');
    await flush();
    expect(session.view().state).toBe('complete');
    expect(views).toEqual(views.map((_, i) => i + 1));
  });
});

describe('keys', () => {
  it('shows the brand as soon as the IIN is known and last4 only once valid', () => {
    const { session, field } = start(['card_number']);
    expect(field('card_number').brand).toBeUndefined();
    typeKeys(session, '4');
    expect(field('card_number')).toMatchObject({ brand: 'visa', digitCount: 1, state: 'capturing' });
    typeKeys(session, VISA.slice(1), 100);
    expect(field('card_number').last4).toBeUndefined();
    typeKeys(session, '#', 2000);
    expect(field('card_number')).toMatchObject({ state: 'complete', valid: true, last4: '1111', digitCount: 16 });
  });

  it('auto-completes at the brand maximum length without #', () => {
    for (const [pan, brand] of [
      [MASTERCARD, 'mastercard'],
      [AMEX, 'amex'],
    ] as const) {
      const { session, field } = start(['card_number', 'cvv']);
      typeKeys(session, pan);
      expect(field('card_number')).toMatchObject({ state: 'complete', brand });
      expect(session.view().currentField).toBe('cvv');
    }
  });

  it('auto-completes fixed-length fields', () => {
    const { session, field } = start(['expiry', 'ssn', 'routing_number', 'postal_code', 'account_number']);
    typeKeys(session, '1228');
    expect(field('expiry').state).toBe('complete');
    typeKeys(session, '123456789', 1000);
    expect(field('ssn').state).toBe('complete');
    typeKeys(session, '021000021', 2000);
    expect(field('routing_number').state).toBe('complete');
    typeKeys(session, '941051234', 3000);
    expect(field('postal_code').state).toBe('complete');
    expect(session.view().currentField).toBe('account_number');
  });

  it('needs # for variable lengths: a 5-digit ZIP, an account number, a 16-digit Visa', () => {
    const { session, field } = start(['postal_code', 'account_number', 'card_number']);
    typeKeys(session, '94105');
    expect(field('postal_code').state).toBe('capturing');
    typeKeys(session, '#12345#', 1000);
    expect(field('postal_code').state).toBe('complete');
    expect(field('account_number')).toMatchObject({ state: 'complete', digitCount: 5 });
    typeKeys(session, VISA, 2000);
    expect(field('card_number').state).toBe('capturing');
  });

  it('takes the CVV length from the captured card', () => {
    const amex = start(['card_number', 'cvv']);
    typeKeys(amex.session, `${AMEX}123`);
    expect(amex.field('cvv')).toMatchObject({ state: 'capturing', digitCount: 3 });
    typeKeys(amex.session, '4', 5000);
    expect(amex.field('cvv').state).toBe('complete');

    const visa = start(['card_number', 'cvv']);
    typeKeys(visa.session, `${VISA}#123`);
    expect(visa.field('cvv').state).toBe('complete');

    const alone = start(['cvv']);
    typeKeys(alone.session, '123#');
    expect(alone.field('cvv').state).toBe('complete');
    const alone4 = start(['cvv']);
    typeKeys(alone4.session, '1234');
    expect(alone4.field('cvv').state).toBe('complete');
  });

  it('checks a CVV taken before its card again once the brand is known', () => {
    const { session, field, audit } = start(['cvv', 'card_number']);
    typeKeys(session, `123#${AMEX}`);
    expect(field('cvv')).toMatchObject({ state: 'capturing', error: 'invalid_cvv', attempts: 1, digitCount: 0 });
    expect(session.view().currentField).toBe('cvv');
    expect(audit.events.at(-1)).toMatchObject({ action: 'capture.field_invalid', details: { field: 'cvv', error: 'invalid_cvv' } });
    typeKeys(session, '1234', 5000);
    expect(session.view().state).toBe('tokenizing');
  });

  it('clears the field on *', () => {
    const { session, field } = start(['card_number']);
    typeKeys(session, '4111*');
    expect(field('card_number')).toMatchObject({ digitCount: 0, state: 'capturing', attempts: 0 });
    expect(field('card_number').brand).toBeUndefined();
    typeKeys(session, MASTERCARD, 1000);
    expect(field('card_number')).toMatchObject({ state: 'complete', brand: 'mastercard' });
  });

  it('ignores # on an empty field and keys that go back in caller-audio time', () => {
    const { session, field } = start(['account_number']);
    const version = session.view().version;
    session.press('#', 0, 'inband');
    expect(session.view().version).toBe(version);
    session.press('1', 500, 'inband');
    session.press('1', 400, 'event');
    expect(field('account_number').digitCount).toBe(1);
  });

  it('gives the mask policy of the open field, overridable per request and per field', () => {
    const { session } = start([{ name: 'card_number' }, { name: 'ssn', mask: 'tones' }], {}, { mask: 'all' });
    expect(session.maskPolicy()).toBe('all');
    typeKeys(session, MASTERCARD);
    expect(session.maskPolicy()).toBe('tones');
    const digits = start(['member_id'], { digitsFields: [{ name: 'member_id', minLength: 6, maxLength: 8, mask: 'all' }] });
    expect(digits.session.maskPolicy()).toBe('all');
  });
});

describe('invalid entries and attempts', () => {
  it('shows the error and lets the caller try again', () => {
    const { session, field, audit } = start(['card_number']);
    typeKeys(session, '4111111111111112#');
    expect(field('card_number')).toMatchObject({ state: 'capturing', valid: false, error: 'invalid_luhn', attempts: 1, digitCount: 0 });
    expect(audit.events.at(-1)).toMatchObject({ action: 'capture.field_invalid', outcome: 'failure' });
    expect(audit.events.at(-1)?.details).toEqual({ callSid: 'CA1', mode: 'inline', field: 'card_number', error: 'invalid_luhn' });
    typeKeys(session, `${VISA}#`, 5000);
    expect(field('card_number')).toMatchObject({ state: 'complete', valid: true, error: null, attempts: 1 });
  });

  it('refuses a brand outside the allow-list, naming the brand', () => {
    const { session, field } = start(['card_number'], { allowedBrands: ['visa'] });
    typeKeys(session, AMEX);
    expect(field('card_number')).toMatchObject({ state: 'capturing', error: 'brand_not_accepted', brand: 'amex' });
  });

  it('fails the capture once the attempts are used up', () => {
    const { session, field, audit } = start(['card_number'], { maxAttempts: 2 });
    typeKeys(session, '4111111111111112#4111111111111113#');
    expect(field('card_number')).toMatchObject({ state: 'invalid', error: 'too_many_attempts', attempts: 2 });
    expect(session.view()).toMatchObject({ state: 'failed', error: { code: 'too_many_attempts' } });
    expect(session.isActive()).toBe(false);
    expect(session.maskPolicy()).toBeNull();
    expect(inline(session).buffersZeroed()).toBe(true);
    expect(audit.events.filter((e) => e.action === 'capture.field_invalid')).toHaveLength(2);
    expect(audit.events.at(-1)).toMatchObject({ action: 'capture.failed', details: { code: 'too_many_attempts' } });
  });
});

describe('enter-twice matching', () => {
  it('completes when both entries match', () => {
    const { session, field } = start([{ name: 'account_number', requireMatching: true }]);
    typeKeys(session, '123456#');
    expect(field('account_number')).toMatchObject({ state: 'capturing', digitCount: 0, error: null });
    typeKeys(session, '123456#', 1000);
    expect(field('account_number')).toMatchObject({ state: 'complete', digitCount: 6 });
  });

  it('reports a mismatch as a failed attempt and starts over', () => {
    const { session, field } = start(['ssn'], {}, { requireMatching: true });
    typeKeys(session, '123456789123456780');
    expect(field('ssn')).toMatchObject({ state: 'capturing', error: 'mismatch', attempts: 1 });
    typeKeys(session, '123456780123456780', 5000);
    expect(field('ssn').state).toBe('complete');
  });
});

describe('timeouts', () => {
  it('a first-digit timeout costs an attempt and restarts the wait', () => {
    const { session, field, clock, audit } = start(['cvv'], { firstDigitTimeoutMs: 10_000, interDigitTimeoutMs: 3_000, maxAttempts: 2 });
    clock.advance(9_999);
    expect(field('cvv').error).toBeNull();
    clock.advance(1);
    expect(field('cvv')).toMatchObject({ state: 'capturing', error: 'timeout', attempts: 1 });
    expect(audit.events.some((e) => e.action === 'capture.field_invalid')).toBe(false);
    clock.advance(10_000);
    expect(field('cvv')).toMatchObject({ state: 'invalid', error: 'too_many_attempts' });
    expect(session.view().state).toBe('failed');
  });

  it('the inter-digit timeout is separate from the first-digit one', () => {
    const { session, field, clock } = start(['account_number'], { firstDigitTimeoutMs: 10_000, interDigitTimeoutMs: 3_000 });
    clock.advance(5_000);
    expect(field('account_number').error).toBeNull();
    typeKeys(session, '12');
    clock.advance(2_999);
    expect(field('account_number').digitCount).toBe(2);
    typeKeys(session, '3', 1000);
    clock.advance(2_999);
    expect(field('account_number')).toMatchObject({ digitCount: 3, error: null });
    clock.advance(1);
    expect(field('account_number')).toMatchObject({ digitCount: 0, error: 'timeout', attempts: 1 });
    expect(inline(session).buffersZeroed()).toBe(true);
  });

  it('a field timeout also waits for a keypress under way', () => {
    const { session, field, clock } = start(['account_number'], { interDigitTimeoutMs: 3_000 });
    typeKeys(session, '12');
    clock.advance(2_900);
    session.noteActivity(3_000);
    clock.advance(500);
    session.press('3', 3_100, 'inband');
    expect(field('account_number')).toMatchObject({ digitCount: 3, error: null, attempts: 0 });
    session.noteActivity(4_000);
    clock.advance(3_000 + KEY_GRACE_MS);
    expect(field('account_number')).toMatchObject({ digitCount: 0, error: 'timeout', attempts: 1 });
  });

  it('the total limit ends the capture', () => {
    const { session, field, clock } = start(['account_number'], { totalTimeoutMs: 10_000, interDigitTimeoutMs: 3_000 });
    let at = 0;
    for (let t = 0; t < 10_000; t += 2_000) {
      at = typeKeys(session, '1', at);
      clock.advance(2_000);
    }
    expect(session.view()).toMatchObject({ state: 'failed', error: { code: 'timeout' } });
    expect(field('account_number')).toMatchObject({ state: 'timeout', error: 'timeout' });
    expect(inline(session).buffersZeroed()).toBe(true);
  });

  it('the total limit waits for a keypress under way, which may still finish the capture', async () => {
    const { session, clock } = start(['expiry'], { totalTimeoutMs: 10_000, interDigitTimeoutMs: 20_000 });
    typeKeys(session, '122');
    clock.advance(9_900);
    session.noteActivity(9_950);
    clock.advance(500);
    expect(session.view().state).toBe('active');
    session.press('8', 10_300, 'inband');
    await flush();
    expect(session.view().state).toBe('complete');
  });

  it('after the deferred key lands, an unfinished capture times out', () => {
    const { session, clock } = start(['account_number'], { totalTimeoutMs: 10_000 });
    clock.advance(9_900);
    session.noteActivity(9_950);
    clock.advance(500);
    session.press('1', 10_300, 'inband');
    expect(session.view()).toMatchObject({ state: 'failed', error: { code: 'timeout' } });
  });

  it('a keypress that never lands ends the capture after the grace period', () => {
    const { session, clock } = start(['account_number'], { totalTimeoutMs: 10_000 });
    session.noteActivity(9_000);
    clock.advance(10_000 + KEY_GRACE_MS - 1);
    expect(session.view().state).toBe('active');
    clock.advance(1);
    expect(session.view().state).toBe('failed');
  });
});

describe('agent commands', () => {
  it('reset reopens a completed field and audits it', () => {
    const { session, field, audit } = start(['card_number', 'expiry']);
    typeKeys(session, `${MASTERCARD}12`);
    session.resetField('card_number', AGENT);
    expect(field('card_number')).toMatchObject({ state: 'capturing', digitCount: 0, valid: null, attempts: 0 });
    expect(field('card_number').last4).toBeUndefined();
    expect(field('expiry')).toMatchObject({ state: 'pending', digitCount: 0 });
    expect(session.view().currentField).toBe('card_number');
    expect(audit.events.at(-1)).toMatchObject({ action: 'capture.field_reset', actor: AGENT, details: { field: 'card_number' } });
    typeKeys(session, `${VISA}#1228`, 5000);
    expect(field('card_number')).toMatchObject({ state: 'complete', brand: 'visa' });
  });

  it('reset refuses unknown fields and ended captures', () => {
    const { session } = start(['cvv']);
    expect(() => session.resetField('ssn', AGENT)).toThrow(expect.objectContaining({ code: 'field_not_found', status: 404 }));
    session.cancel('agent', AGENT);
    expect(() => session.resetField('cvv', AGENT)).toThrow(expect.objectContaining({ code: 'capture_not_active', status: 409 }));
    expect(() => session.cancel('agent', AGENT)).toThrow(expect.objectContaining({ code: 'capture_not_active' }));
  });

  it('cancel ends the capture, zeroes the buffers and ignores further keys', () => {
    const { session, field, audit, clock } = start(['card_number', 'cvv'], {}, { requireMatching: true });
    typeKeys(session, `${MASTERCARD}4111`);
    session.cancel('caller asked', AGENT);
    expect(session.view()).toMatchObject({ state: 'cancelled', currentField: null });
    expect(field('card_number').state).toBe('cancelled');
    expect(inline(session).buffersZeroed()).toBe(true);
    expect(audit.events.at(-1)).toMatchObject({ action: 'capture.cancelled', details: { reason: 'caller asked' } });
    const version = session.view().version;
    typeKeys(session, '1', 10_000);
    clock.advance(1_000_000);
    expect(session.view().version).toBe(version);
  });
});

describe('tokenizing', () => {
  it('hands the vault copies, zeroes its own buffers, then zeroes the copies after the vault returns', async () => {
    const { session, tokenizer, audit, views } = start(['card_number', 'expiry', 'cvv']);
    tokenizer.hold = true;
    typeKeys(session, `${VISA}#1228123`);
    expect(session.view().state).toBe('tokenizing');
    expect(session.maskPolicy()).toBeNull();
    expect(inline(session).buffersZeroed()).toBe(true);
    const handed = tokenizer.requests[0]!;
    expect(tokenizer.received[0]!.get('card_number')).toBe(VISA);
    expect([...handed.kinds]).toEqual([
      ['card_number', 'card_number'],
      ['expiry', 'expiry'],
      ['cvv', 'cvv'],
    ]);
    tokenizer.finish();
    await flush();
    for (const buffer of handed.values.values()) expect(buffer.every((b) => b === 0)).toBe(true);
    expect(session.view()).toMatchObject({ state: 'complete', result: { token: 'tok_1', last4: '1111' } });
    expect(views.at(-1)?.state).toBe('complete');
    expect(audit.events.at(-1)).toMatchObject({ action: 'capture.completed', details: { token: 'tok_1', last4: '1111' } });
  });

  it('a vault failure fails the capture with tokenize_failed and no values', async () => {
    const { session, tokenizer } = start(['ssn']);
    tokenizer.failWith = new Error('vault down for 123456789');
    typeKeys(session, '123456789');
    await flush();
    expect(session.view()).toMatchObject({ state: 'failed', error: { code: 'tokenize_failed' } });
    expect(JSON.stringify(session.view())).not.toContain('1234');
    for (const buffer of tokenizer.requests[0]!.values.values()) expect(buffer.every((b) => b === 0)).toBe(true);
  });

  it('a cancel while tokenizing wins over the late vault answer', async () => {
    const { session, tokenizer } = start(['cvv']);
    tokenizer.hold = true;
    typeKeys(session, '1234');
    session.cancel('hang-up', SYSTEM_ACTOR);
    tokenizer.finish();
    await flush();
    expect(session.view()).toMatchObject({ state: 'cancelled', result: null });
  });
});
