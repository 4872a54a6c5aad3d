import { describe, expect, it } from 'vitest';
import { ENDED_RETENTION_MS, type CaptureModeDriver, type ExternalCaptureHandle } from '../../src/capture/index.js';
import { AGENT, flush, setup, typeKeys } from './fakes.js';
import { withLuhnDigit } from './luhn-util.js';

const request = (names: string[], callSid = 'CA1') => ({ callSid, fields: names.map((name) => ({ name })), actor: AGENT });

describe('capture service', () => {
  it('captures card, expiry and cvv and returns a token, with one view per change', async () => {
    const { service, tokenizer, views, audit } = setup();
    const session = service.start(request(['card_number', 'expiry', 'cvv']));
    expect(service.get(session.id)).toBe(session);
    expect(service.activeForCall('CA1')).toBe(session);
    typeKeys(session, '4111111111111111#1230123');
    await flush();
    expect(session.view()).toMatchObject({ state: 'complete', currentField: null, result: { token: 'tok_1' } });
    expect(tokenizer.received[0]?.get('card_number')?.length).toBe(16);
    expect(views.map((v) => v.version)).toEqual(views.map((_, i) => i + 1));
    expect(views.at(-1)?.fields[0]?.last4).toBe('1111');
    expect(service.activeForCall('CA1')).toBeUndefined();
    expect(audit.events.map((e) => e.action)).toEqual(['capture.started', 'capture.completed']);
  });

  it('refuses unknown, repeated and missing fields with 422 invalid_fields', () => {
    const { service } = setup();
    for (const names of [['card_number', 'pin'], ['cvv', 'cvv'], [], ['digits']]) {
      expect(() => service.start(request(names))).toThrow(expect.objectContaining({ code: 'invalid_fields', status: 422 }));
    }
    expect(service.activeForCall('CA1')).toBeUndefined();
  });

  it('allows one live capture per call (409), and a new one once it has ended', () => {
    const { service } = setup();
    const first = service.start(request(['cvv']));
    expect(() => service.start(request(['ssn']))).toThrow(expect.objectContaining({ code: 'capture_in_progress', status: 409 }));
    expect(service.start(request(['ssn'], 'CA2')).callSid).toBe('CA2');
    first.cancel('agent', AGENT);
    expect(service.start(request(['ssn'])).isActive()).toBe(true);
  });

  it('captures configured digits fields with their own rules', () => {
    const { service } = setup({ digitsFields: [{ name: 'member_id', minLength: 6, maxLength: 10, checkDigit: 'luhn' }] });
    const session = service.start(request(['member_id']));
    typeKeys(session, '123456#');
    expect(session.view().fields[0]).toMatchObject({ kind: 'digits', state: 'capturing', error: 'invalid_luhn' });
    typeKeys(session, `${withLuhnDigit('123456')}#`, 1000);
    expect(session.view().fields[0]).toMatchObject({ state: 'complete', digitCount: 7 });
  });

  it('endCall cancels the call capture as the telephony actor', () => {
    const { service, audit } = setup();
    const session = service.start(request(['cvv']));
    service.endCall('CA1', 'hang-up');
    expect(session.view().state).toBe('cancelled');
    expect(audit.events.at(-1)).toMatchObject({ action: 'capture.cancelled', actor: { type: 'telephony' }, details: { reason: 'hang-up' } });
  });

  it('forgets ended captures after the retention period', () => {
    const { service, clock } = setup();
    const session = service.start(request(['cvv']));
    session.cancel('agent', AGENT);
    clock.advance(ENDED_RETENTION_MS - 1);
    expect(service.get(session.id)).toBe(session);
    clock.advance(1);
    expect(service.get(session.id)).toBeUndefined();
  });

  it("finds a call's capture without looking at other calls' (the bridge asks every frame; ended ones stay for the retention period)", () => {
    const { service, clock } = setup();
    let otherCallReads = 0;
    for (let i = 0; i < 50; i++) {
      const ended = service.start(request(['cvv'], `CA-other-${i}`));
      ended.cancel('agent', AGENT);
      Object.defineProperty(ended, 'callSid', { get: () => (otherCallReads++, `CA-other-${i}`) });
    }
    const live = service.start(request(['cvv'], 'CA-live'));
    otherCallReads = 0;
    expect(service.activeForCall('CA-live')).toBe(live);
    expect(service.activeForCall('CA-none')).toBeUndefined();
    service.endCall('CA-none', 'hang-up');
    expect(otherCallReads).toBe(0);
    service.endCall('CA-live', 'hang-up');
    expect(live.view().state).toBe('cancelled');
    expect(service.activeForCall('CA-live')).toBeUndefined();
    clock.advance(ENDED_RETENTION_MS - 1);
    expect(service.get(live.id)).toBe(live);
    clock.advance(1);
    expect(service.get(live.id)).toBeUndefined();
    expect(service.start(request(['cvv'], 'CA-live')).isActive()).toBe(true);
  });

  it('a listener that throws does not stop the others', () => {
    const { service, views } = setup();
    service.onView(() => {
      throw new Error('broken listener');
    });
    service.start(request(['cvv']));
    expect(views).toHaveLength(1);
  });

  it('unsubscribes', () => {
    const { service } = setup();
    const seen: number[] = [];
    const off = service.onView((v) => seen.push(v.version));
    const session = service.start(request(['cvv']));
    off();
    typeKeys(session, '1');
    expect(seen).toEqual([1]);
  });
});

describe('external capture modes', () => {
  function driver() {
    const calls: string[] = [];
    let handle: ExternalCaptureHandle | undefined;
    const d: CaptureModeDriver = {
      start: async (h) => {
        handle = h;
        calls.push('start');
      },
      resetField: async (_h, field) => void calls.push(`reset:${field}`),
      cancel: async (_h, reason) => void calls.push(`cancel:${reason}`),
    };
    return { d, calls, handle: () => handle! };
  }

  it('refuses an unregistered mode with 400 unknown_mode', () => {
    const { service } = setup();
    expect(() => service.start({ ...request(['cvv']), mode: 'twilio-pay' })).toThrow(
      expect.objectContaining({ code: 'unknown_mode', status: 400 }),
    );
  });

  it('turns driver progress into agent views and audit events', async () => {
    const { service, audit } = setup();
    const { d, calls, handle } = driver();
    service.registerMode('twilio-pay', d);
    const session = service.start({ ...request(['card_number', 'cvv']), mode: 'twilio-pay' });
    await flush();
    expect(calls).toEqual(['start']);
    expect(handle().fields).toEqual([
      { name: 'card_number', kind: 'card_number' },
      { name: 'cvv', kind: 'cvv' },
    ]);
    expect(session.maskPolicy()).toBeNull();
    handle().setCurrentField('card_number');
    handle().updateField('card_number', { state: 'capturing', digitCount: 6, brand: 'visa' });
    handle().updateField('card_number', { valid: false, error: 'invalid_luhn', attempts: 1 });
    expect(audit.events.at(-1)).toMatchObject({ action: 'capture.field_invalid', details: { field: 'card_number', error: 'invalid_luhn' } });
    session.resetField('card_number', AGENT);
    expect(session.view().fields[0]).toMatchObject({ state: 'pending', attempts: 0 });
    handle().complete({ token: 'tok_pay', brand: 'visa', last4: '1111' });
    expect(session.view()).toMatchObject({ state: 'complete', mode: 'twilio-pay', result: { token: 'tok_pay' } });
    handle().fail('late', 'ignored after the end');
    expect(session.view().state).toBe('complete');
    await flush();
    expect(calls).toEqual(['start', 'reset:card_number']);
  });

  it('cancels through the driver, and fails when the driver cannot start', async () => {
    const { service } = setup();
    const { d, calls } = driver();
    service.registerMode('twilio-pay', d);
    const session = service.start({ ...request(['cvv']), mode: 'twilio-pay' });
    service.endCall('CA1', 'hang-up');
    await flush();
    expect(session.view().state).toBe('cancelled');
    expect(calls).toContain('cancel:hang-up');

    service.registerMode('twilio-pay', { ...d, start: async () => Promise.reject(new Error('no payments API')) });
    const failing = service.start({ ...request(['cvv'], 'CA2'), mode: 'twilio-pay' });
    await flush();
    expect(failing.view()).toMatchObject({ state: 'failed', error: { code: 'mode_failed' } });
  });
});
