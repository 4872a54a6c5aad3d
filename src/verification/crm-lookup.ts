import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { ServiceSigningKey } from '../audit/service-key.js';
import { ToneguardError } from '../errors.js';

/** Where the numbers on file for an account come from (the CRM); verification's only window on customer data. */
export interface NumbersOnFileLookup {
  /** The account's phone numbers in E.164; throws `account_not_found` (404) or `verification_lookup_failed` (502). */
  numbersOnFile(accountRef: string): Promise<string[]>;
}

export const LOOKUP_JWS_TYPE = 'toneguard-lookup+json';
const MAX_NUMBERS = 10;
const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/);
const lookupAnswer = z.object({ numbers: z.array(e164).max(MAX_NUMBERS) });

/**
 * The CRM webhook: POSTs `{ accountRef, aud, iat, nonce }` as a flattened JWS signed with the
 * service key (its public half is at `/.well-known/jwks.json`), so the CRM answers Toneguard
 * only, and can refuse a replay by `nonce` and `iat`. The answer is `{ "numbers": ["+1…"] }`;
 * 404 means no such account. No redirect is followed, and neither answer body nor number is logged.
 */
export function createCrmLookup(options: { url: string; signer: ServiceSigningKey; timeoutMs: number }): NumbersOnFileLookup {
  return {
    async numbersOnFile(accountRef) {
      const claims = { accountRef, aud: options.url, iat: Math.floor(Date.now() / 1000), nonce: randomBytes(16).toString('base64url') };
      const jws = await options.signer.signJson(claims, LOOKUP_JWS_TYPE);
      let response: Response;
      try {
        response = await fetch(options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/jose+json', accept: 'application/json' },
          body: JSON.stringify(jws),
          signal: AbortSignal.timeout(options.timeoutMs),
          redirect: 'error',
        });
      } catch (err) {
        throw new ToneguardError('verification_lookup_failed', 'The CRM lookup could not be reached', 502, { cause: err });
      }
      if (response.status === 404) {
        await response.body?.cancel();
        throw new ToneguardError('account_not_found', 'The CRM knows no such account', 404);
      }
      if (!response.ok) {
        await response.body?.cancel();
        throw new ToneguardError('verification_lookup_failed', `The CRM lookup answered ${response.status}`, 502);
      }
      const parsed = lookupAnswer.safeParse(await response.json().catch(() => undefined));
      if (!parsed.success) throw new ToneguardError('verification_lookup_failed', 'The CRM lookup answered an unusable body', 502);
      return parsed.data.numbers;
    },
  };
}
