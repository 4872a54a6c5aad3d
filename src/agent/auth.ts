import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import type { Config } from '../config/index.js';
import type { Actor, AuditSink } from '../audit/types.js';
import { sendError } from '../http/errors.js';
import { devIssuerEnabled, loadDevIssuerKey } from './dev-issuer.js';
import { ROLES, type Role } from './roles.js';

export { ROLES, type Role };

/** A verified caller: the token subject and the roles Toneguard knows. */
export interface Principal {
  sub: string;
  roles: Role[];
  /** Roles the token claims but may not use because it carries no MFA `amr` (`auth.mfaRoles`). */
  withheld?: Role[];
  /** When the token stops being valid (ms since the epoch, clock tolerance included); long-lived sockets close then. */
  validUntil: number;
  /** The token's `iat` in ms since the epoch, when it has one: `incident revoke-sessions` cuts off by it. */
  issuedAt: number | null;
  /** Whether the token's `amr` shows multi-factor authentication (the incident routes insist on it). */
  mfa: boolean;
}

/**
 * `amr` values (RFC 8176, plus common IdP spellings) that show a second factor was used:
 * an explicit multi-factor marker, or a possession or one-time factor beside the password.
 */
export const MFA_METHODS: readonly string[] = ['mfa', 'mca', 'otp', 'hwk', 'swk', 'sms', 'tel', 'sc', 'fido', 'ngcmfa'];

/** Whether an `amr` claim (an array of method names) shows multi-factor authentication. */
function hasMfa(amr: unknown): boolean {
  return Array.isArray(amr) && amr.some((method) => typeof method === 'string' && MFA_METHODS.includes(method));
}

/** Drops the roles in `mfaRoles` from a token without MFA, and says which were withheld. */
export function applyMfaPolicy(roles: Role[], amr: unknown, mfaRoles: readonly Role[]): Pick<Principal, 'roles' | 'withheld'> {
  if (hasMfa(amr)) return { roles };
  const withheld = roles.filter((r) => mfaRoles.includes(r));
  if (withheld.length === 0) return { roles };
  return { roles: roles.filter((r) => !withheld.includes(r)), withheld };
}

/** Verifies a bearer JWT; tests swap the key source for a local JWKS server. */
export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

export class AuthError extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

export interface VerifierOptions {
  /** Tokens issued before this instant (ms since the epoch), or without an `iat`, are refused as `revoked`. */
  revokedBefore?: () => number | null;
}

/** Whether a session issued at `issuedAt` falls under the revocation cut-off. */
export function isRevoked(issuedAt: number | null, revokedBefore: number | null): boolean {
  return revokedBefore !== null && (issuedAt === null || issuedAt < revokedBefore);
}

/** Verifies against `auth.jwksUrl`, or in development without one, against the dev issuer's key. */
export function createTokenVerifier(config: Config, options: VerifierOptions = {}): TokenVerifier {
  const { auth } = config;
  const keys = auth.jwksUrl
    ? createRemoteJWKSet(new URL(auth.jwksUrl))
    : devIssuerEnabled(config)
      ? createLocalJWKSet({ keys: [loadDevIssuerKey(config.dataDir).publicJwk] })
      : null;
  if (!keys) throw new Error('auth.jwksUrl is required when the development issuer is off');
  return {
    async verify(token) {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          algorithms: auth.algorithms,
          issuer: auth.issuer,
          audience: auth.audience,
          clockTolerance: auth.clockToleranceSec,
          requiredClaims: ['exp'],
        }));
      } catch (err) {
        throw new AuthError(reasonFor(err));
      }
      // jose checks `iat` only with a maximum token age; a token from the future is forged or from a broken clock.
      if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + auth.clockToleranceSec) throw new AuthError('issued_in_future');
      if (typeof payload.sub !== 'string' || payload.sub === '') throw new AuthError('missing_subject');
      const issuedAt = typeof payload.iat === 'number' ? payload.iat * 1000 : null;
      if (isRevoked(issuedAt, options.revokedBefore?.() ?? null)) throw new AuthError('revoked');
      return {
        sub: payload.sub,
        ...applyMfaPolicy(rolesFrom(payload[auth.roleClaim]), payload.amr, auth.mfaRoles),
        validUntil: (payload.exp! + auth.clockToleranceSec) * 1000,
        issuedAt,
        mfa: hasMfa(payload.amr),
      };
    },
  };
}

function reasonFor(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'expired';
  if (err instanceof errors.JWTClaimValidationFailed) return `claim_${err.claim}`;
  if (err instanceof errors.JOSEAlgNotAllowed) return 'alg_not_allowed';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'bad_signature';
  if (err instanceof errors.JWKSNoMatchingKey) return 'unknown_key';
  return 'malformed';
}

function rolesFrom(claim: unknown): Role[] {
  const values = Array.isArray(claim) ? claim : typeof claim === 'string' ? claim.split(/[\s,]+/) : [];
  return values.filter((v): v is Role => (ROLES as readonly string[]).includes(v));
}

export function actorOf(principal: Principal, source?: string): Actor {
  return { type: 'agent', id: principal.sub, roles: principal.roles, ...(source ? { source } : {}) };
}

export function principalOf(res: Response): Principal {
  return res.locals.principal as Principal;
}

/** Authenticates `Authorization: Bearer <jwt>`; failures are 401 with an `auth.failed` audit event. */
export function authenticate(verifier: TokenVerifier, audit: AuditSink): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const match = /^Bearer ([^\s]+)$/.exec(req.get('authorization') ?? '');
    const source = req.ip;
    if (!match) return deny401(res, audit, 'missing_token', source);
    try {
      res.locals.principal = await verifier.verify(match[1]!);
      next();
    } catch (err) {
      deny401(res, audit, err instanceof AuthError ? err.reason : 'malformed', source);
    }
  };
}

function deny401(res: Response, audit: AuditSink, reason: string, source?: string): void {
  audit.record({ action: 'auth.failed', actor: { type: 'agent', id: 'unknown' }, outcome: 'failure', ...(source ? { source } : {}), details: { reason } });
  sendError(res, 401, 'unauthenticated', 'a valid bearer token is required');
}

/**
 * Why a principal lacking all of `roles` is refused: `mfa_required` when it would hold one
 * of them but for the MFA policy, else `fallback`.
 */
export function denialReason(principal: Principal, roles: readonly Role[], fallback: string): string {
  return principal.withheld?.some((r) => roles.includes(r)) ? 'mfa_required' : fallback;
}

/** Records an `auth.denied` event and answers 403. */
export function deny403(res: Response, audit: AuditSink, reason: string, resource?: { type: string; id: string }): void {
  const principal = principalOf(res);
  audit.record({ action: 'auth.denied', actor: actorOf(principal, res.req.ip), outcome: 'denied', ...(resource ? { resource } : {}), details: { reason } });
  sendError(res, 403, 'forbidden', 'this identity may not do that');
}

/** Lets the request through only when the authenticated principal holds one of `roles`. Use after `authenticate`. */
export function requireRole(audit: AuditSink, ...roles: Role[]): RequestHandler {
  return (req, res, next) => {
    const principal = principalOf(res);
    if (principal.roles.some((r) => roles.includes(r))) return next();
    deny403(res, audit, denialReason(principal, roles, 'role'), { type: 'route', id: `${req.method} ${req.baseUrl}${req.route?.path ?? req.path}` });
  };
}
