import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { holdsCardNumber, transactionIdSchema } from '../../src/telephony/twilio/transaction-id.js';

const TEST_PANS = ['4111111111111111', '5555555555554444', '378282246310005', '6011111111111117'];
const letters = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_'.split('')), maxLength: 20 });
const hex = (length: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'.split('')), minLength: length, maxLength: length });
const accepted = (id: string) => transactionIdSchema.safeParse(id).success;

describe('the Generic Pay Connector transaction_id', () => {
  it('refuses every free-form id that hides a test card number, bare or grouped with dashes or underscores', () => {
    fc.assert(
      fc.property(letters, fc.constantFrom(...TEST_PANS), fc.constantFrom('', '-', '_'), letters, (before, pan, separator, after) => {
        const id = `${before}${pan.match(/.{1,4}/g)!.join(separator)}${after}`;
        expect(holdsCardNumber(id)).toBe(true);
        expect(accepted(id)).toBe(false);
      }),
    );
  });

  it('accepts every Twilio SID and every UUID, whatever digits their hex holds', () => {
    fc.assert(fc.property(hex(32), (digits) => accepted(`PK${digits}`)));
    fc.assert(fc.property(fc.uuid(), accepted));
  });

  it('refuses other characters and lengths, and keeps ids without card numbers', () => {
    for (const id of ['', 'a'.repeat(65), 'has space', 'semi;colon', 'tx/1', 'ünïcode']) expect(accepted(id)).toBe(false);
    for (const id of ['PK0001', 'transaction_id', 'tx-2026-12-01', '123456789012', 'a'.repeat(64)]) expect(accepted(id)).toBe(true);
  });
});
