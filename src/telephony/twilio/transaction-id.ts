import { z } from 'zod';
import { luhnValid } from '../../capture/checksums.js';

const CHARSET_AND_LENGTH = /^[A-Za-z0-9_-]{1,64}$/;
/**
 * Ids generated at random, taken as they are: a Twilio resource SID (`PK…` for a payment: two
 * capitals and 32 lower-case hex digits) and a UUID. By chance alone their hex digits hold a
 * Luhn-valid run of 13 to 19 digits (bare, or across a UUID's dashes) in about one id in 150.
 */
const GENERATED_ID = [/^[A-Z]{2}[0-9a-f]{32}$/, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i];
const SHORTEST_PAN = 13;
const LONGEST_PAN = 19;

const isDigit = (ch: string | undefined): boolean => ch !== undefined && ch >= '0' && ch <= '9';

/**
 * The runs of digits in `id`, read across single `-` or `_` separators, so `4111-1111-1111-1111`
 * is one run as a card number written with dashes would be.
 */
function digitRuns(id: string): string[] {
  const runs: string[] = [];
  let run = '';
  for (let i = 0; i < id.length; i++) {
    const ch = id[i];
    const joinsDigits = (ch === '-' || ch === '_') && run !== '' && isDigit(id[i + 1]);
    if (isDigit(ch)) {
      run += ch;
    } else if (!joinsDigits) {
      if (run !== '') runs.push(run);
      run = '';
    }
  }
  if (run !== '') runs.push(run);
  return runs;
}

/** True when some 13 to 19 consecutive digits of a run pass the Luhn check: a card number may hide there. */
export function holdsCardNumber(id: string): boolean {
  for (const run of digitRuns(id)) {
    for (let length = SHORTEST_PAN; length <= Math.min(LONGEST_PAN, run.length); length++) {
      for (let start = 0; start + length <= run.length; start++) if (luhnValid(run.slice(start, start + length))) return true;
    }
  }
  return false;
}

/**
 * The Generic Pay Connector's `transaction_id`. It is written to the log, the audit trail and
 * connector.db, so it is checked here, before any of them: letters, digits, `-` and `_`, at most
 * 64 of them, and, unless it is a SID or a UUID, nothing that could be a card number (a
 * Luhn-valid run of 13 to 19 digits, bare or split by `-`/`_`, such as `abc4111111111111111def`).
 */
export const transactionIdSchema = z
  .string()
  .regex(CHARSET_AND_LENGTH)
  .refine((id) => GENERATED_ID.some((shape) => shape.test(id)) || !holdsCardNumber(id));

export const TRANSACTION_ID_RULE = "transaction_id must be 1 to 64 letters, digits, '-' or '_', and must not hold a card number";
