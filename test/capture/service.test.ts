import { describe, expect, it } from 'vitest';
import { AGENT, flush, setup, typeKeys } from './fakes.js';

describe('capture service', () => {
  it('captures card, expiry and cvv and returns a token', async () => {
    const { service, tokenizer, views } = setup();
    const session = service.start({ callSid: 'CA1', fields: [{ name: 'card_number' }, { name: 'expiry' }, { name: 'cvv' }], actor: AGENT });
    typeKeys(session, '4111111111111111#1230123');
    await flush();
    expect(session.view().state).toBe('complete');
    expect(session.view().result?.token).toBe('tok_1');
    expect(tokenizer.received[0]?.get('card_number')?.length).toBe(16);
    expect(views.at(-1)?.fields[0]?.last4).toBe('1111');
  });
});
