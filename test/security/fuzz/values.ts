import fc from 'fast-check';

/** Network test PANs planted in fuzzed bodies; no response or log line may ever carry one. */
export const FUZZ_PANS = ['4111111111111111', '5555555555554444', '378282246310005'] as const;

/** A Twilio-shaped SID (`CA` + 32 hex) that names no call the service knows. */
export const unknownSid = (prefix = 'CA'): fc.Arbitrary<string> => fc.stringMatching(/^[0-9a-f]{32}$/).map((hex) => prefix + hex);

/** Text no parser expects: unicode, control characters, separators, very long runs. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.constantFrom('', ' ', '\u0000', '%', '%zz', '&=&', '[]', '{}', '<Response/>', '../../etc/passwd', '\r\n', 'null') },
  { weight: 1, arbitrary: fc.constantFrom(...FUZZ_PANS) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('x', '9', 'é', '\u{1F4B3}'), fc.integer({ min: 1_000, max: 20_000 })).map(([c, n]) => c.repeat(n)) },
);
