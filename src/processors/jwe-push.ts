import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { SignJWT } from 'jose';
import type { Logger } from '../audit/logger.js';
import type { ProcessorConfig } from '../config/index.js';
import { ToneguardError } from '../errors.js';
import type { DeadLetterLog } from './dead-letters.js';
import type { EncryptionKeyResolver } from './encryption-keys.js';
import { encryptTo, type KeyAlg } from './jwe.js';
import type { CardPayload, PushReceipt, ServiceSigner } from './types.js';

/** The `typ` of the signed push request, so a processor can tell it from any other JWT of ours. */
export const PUSH_JWT_TYPE = 'toneguard-push+jwt';
export const PUSH_CONTENT_TYPE = 'application/jose';

export interface JwePushOptions {
  processor: ProcessorConfig;
  signer: ServiceSigner;
  /** Our public URL: the `iss` of the push, and where `/.well-known/jwks.json` lives. */
  issuer: string;
  keys: EncryptionKeyResolver;
  deadLetters: DeadLetterLog;
  logger: Logger;
  /** Delay before retry `attempt` (2, 3, …). Defaults to 250 ms doubling, with jitter. */
  backoffMs?: (attempt: number) => number;
}

type Failure = { ok: false; retryable: boolean; error: string };
type AttemptOutcome = { ok: true; token: string } | Failure;

/**
 * The `jwe-push` connector: encrypts the card data to the processor's key (JWE), wraps it in a
 * request signed with our service key (JWS), and POSTs it with one idempotency key per capture,
 * retrying 5xx, 408, 429 and timeouts. After the last try it writes a dead letter (no card data).
 */
export class JwePushConnector {
  readonly name: string;
  private readonly url: string;

  constructor(private readonly options: JwePushOptions) {
    if (!options.processor.url) {
      throw new ToneguardError('processor_misconfigured', `processor ${options.processor.name} has no url`, 500);
    }
    this.name = options.processor.name;
    this.url = options.processor.url;
  }

  /** The idempotency key is derived from the reference, so a re-drive of the same capture reuses it. */
  idempotencyKey(reference: string): string {
    return createHash('sha256').update(`${this.name}\0${reference}`).digest('base64url').slice(0, 32);
  }

  async push(payload: CardPayload): Promise<PushReceipt> {
    const { processor, logger } = this.options;
    const idempotencyKey = this.idempotencyKey(payload.reference);
    let body: string;
    try {
      body = await this.signedRequest(payload, idempotencyKey);
    } catch (err) {
      // Without the processor's key nothing can be sent: record it like any final failure.
      this.options.logger.warn({ processor: this.name, code: err instanceof ToneguardError ? err.code : 'encrypt_failed' }, 'processor push not attempted');
      return this.giveUp(payload, idempotencyKey, 0, 'key_unavailable');
    }
    const log = logger.child({ processor: this.name, reference: payload.reference });
    let failure: Failure = { ok: false, retryable: false, error: 'not_attempted' };
    let attempt = 0;
    while (attempt < processor.maxAttempts) {
      if (attempt > 0) await sleep(this.backoff(attempt + 1));
      attempt++;
      const outcome = await this.attempt(body, idempotencyKey);
      if (outcome.ok) {
        log.info({ attempts: attempt }, 'processor accepted card data');
        return { token: outcome.token, attempts: attempt };
      }
      failure = outcome;
      log.warn({ attempt, error: failure.error, retryable: failure.retryable }, 'processor push failed');
      if (!failure.retryable) break;
    }
    return this.giveUp(payload, idempotencyKey, attempt, failure.error);
  }

  private async signedRequest(payload: CardPayload, idempotencyKey: string): Promise<string> {
    const { processor, signer, issuer, keys } = this.options;
    const jwk = await keys.resolve({ jwk: processor.jwk, jwksUrl: processor.jwksUrl, kid: processor.kid });
    const jwe = await encryptTo(jwk, payload, { alg: processor.alg as KeyAlg | undefined });
    return new SignJWT({ reference: payload.reference, jwe })
      .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: PUSH_JWT_TYPE })
      .setIssuer(issuer)
      .setAudience(this.url)
      .setJti(idempotencyKey)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(signer.key);
  }

  private async attempt(body: string, idempotencyKey: string): Promise<AttemptOutcome> {
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': PUSH_CONTENT_TYPE, accept: 'application/json', 'idempotency-key': idempotencyKey },
        body,
        signal: AbortSignal.timeout(this.options.processor.timeoutMs),
      });
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      return { ok: false, retryable: true, error: timedOut ? 'timeout' : 'network' };
    }
    const answer = (await response.json().catch(() => null)) as { token?: unknown } | null;
    if (response.ok) {
      if (answer && typeof answer.token === 'string' && answer.token !== '') return { ok: true, token: answer.token };
      return { ok: false, retryable: false, error: 'bad_answer' };
    }
    const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
    return { ok: false, retryable, error: `http_${response.status}` };
  }

  private giveUp(payload: CardPayload, idempotencyKey: string, attempts: number, error: string): never {
    // The CVV was read once from the vault for this push; dropping our copy leaves none anywhere.
    delete payload.cvv;
    this.options.deadLetters.append({
      at: new Date().toISOString(),
      processor: this.name,
      reference: payload.reference,
      vaultToken: payload.vaultToken,
      idempotencyKey,
      attempts,
      error,
    });
    throw new ToneguardError('processor_unavailable', `processor ${this.name} did not accept the card data (${error})`, 502);
  }

  private backoff(attempt: number): number {
    if (this.options.backoffMs) return this.options.backoffMs(attempt);
    const base = 250 * 2 ** (attempt - 2);
    return base + Math.floor(Math.random() * base * 0.25);
  }
}
