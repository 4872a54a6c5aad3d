import type { TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import { createLocalJWKSet, decodeJwt, jwtVerify, errors as joseErrors } from 'jose';
import { ToneguardError } from '../errors.js';
import type { EnrolledProcessor, ProcessorRegistry } from './registry.js';
import type { AssertionReplay } from './replay-store.js';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Asymmetric algorithms only: a shared-secret assertion would prove nothing about an enrolled key. */
export const ASSERTION_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'];
const MAX_ASSERTION_AGE = '5m';

export interface ProcessorIdentity {
  processor: EnrolledProcessor;
  method: 'mtls' | 'private_key_jwt';
}

/** What an assertion is checked against besides the registry. */
export interface AssertionPolicy {
  /** Our detokenize URL: the assertion's `aud`. */
  audience: string;
  replay: AssertionReplay;
  /** The furthest `exp` may lie ahead, in seconds (`detokenize.maxAssertionLifetimeSec`). */
  maxLifetimeSec: number;
}

function denied(code: string, message: string): ToneguardError {
  return new ToneguardError(code, message, 401);
}

/**
 * The processor behind a TLS client certificate, checked against the registry on every
 * request so that a revocation applies to the next request, even on a kept-alive connection.
 * Undefined when the client presented no certificate.
 */
export async function processorFromCertificate(socket: Socket, registry: ProcessorRegistry): Promise<EnrolledProcessor | undefined> {
  const tls = socket as Partial<TLSSocket>;
  if (!tls.encrypted || typeof tls.getPeerCertificate !== 'function') return undefined;
  const cert = tls.getPeerCertificate();
  if (!cert || !cert.fingerprint256) return undefined;
  if (!tls.authorized) throw denied('client_certificate_untrusted', 'the client certificate was not issued by the Toneguard processor CA');
  const processor = await registry.activeByFingerprint(cert.fingerprint256);
  if (!processor) throw denied('client_certificate_refused', 'the client certificate is not enrolled or has been revoked');
  return processor;
}

/**
 * Verifies an RFC 7523 `private_key_jwt` client assertion: `iss` = `sub` = the processor's
 * enrolled name, `aud` = our detokenize URL, short-lived, single-use `jti`, signed by one of
 * the processor's enrolled `use: "sig"` keys.
 */
export async function processorFromAssertion(assertion: string, registry: ProcessorRegistry, policy: AssertionPolicy): Promise<EnrolledProcessor> {
  let issuer: unknown;
  try {
    issuer = decodeJwt(assertion).iss;
  } catch {
    throw denied('invalid_client_assertion', 'the client assertion is not a JWT');
  }
  const processor = typeof issuer === 'string' ? await registry.active(issuer) : undefined;
  if (!processor) throw denied('invalid_client', 'the client is not an enrolled, active processor');
  const keys = createLocalJWKSet({ keys: processor.keys.filter((k) => k.use === 'sig') });
  try {
    const { payload } = await jwtVerify(assertion, keys, {
      issuer: processor.name,
      subject: processor.name,
      audience: policy.audience,
      algorithms: ASSERTION_ALGORITHMS,
      maxTokenAge: MAX_ASSERTION_AGE,
      requiredClaims: ['exp', 'iat', 'jti'],
    });
    const exp = payload.exp ?? 0;
    // Checked before the replay store remembers it, so a long-lived assertion cannot pin an entry there either.
    if (exp - Math.floor(Date.now() / 1000) > policy.maxLifetimeSec) {
      throw denied('client_assertion_lifetime_too_long', `the client assertion's exp is more than ${policy.maxLifetimeSec} seconds away`);
    }
    if (!(await policy.replay.claim(processor.name, String(payload.jti), exp))) {
      throw denied('client_assertion_replayed', 'the client assertion was already used');
    }
  } catch (err) {
    if (err instanceof ToneguardError) throw err;
    if (err instanceof joseErrors.JWTExpired) throw denied('client_assertion_expired', 'the client assertion has expired');
    throw denied('invalid_client_assertion', 'the client assertion could not be verified');
  }
  return processor;
}

/** Either authentication: a client certificate when one is presented, else the assertion. */
export async function authenticateProcessor(input: {
  socket: Socket;
  assertionType?: string | undefined;
  assertion?: string | undefined;
  registry: ProcessorRegistry;
  policy: AssertionPolicy;
}): Promise<ProcessorIdentity> {
  const byCertificate = await processorFromCertificate(input.socket, input.registry);
  if (byCertificate) return { processor: byCertificate, method: 'mtls' };
  if (!input.assertion) throw denied('client_authentication_required', 'present an enrolled client certificate or a private_key_jwt client assertion');
  if (input.assertionType !== CLIENT_ASSERTION_TYPE) throw denied('invalid_client_assertion', `client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`);
  const processor = await processorFromAssertion(input.assertion, input.registry, input.policy);
  return { processor, method: 'private_key_jwt' };
}
