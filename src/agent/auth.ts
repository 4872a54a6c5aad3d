import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import type { Config } from '../config/index.js';
import type { Actor, AuditSink } from '../audit/types.js';
import { sendError } from '../http/errors.js';
import { devIssuerEnabled, loadDevIssuerKey } from './dev-issuer.js';

export const ROLES = ['agent', 'supervisor', 'admin', 'processor', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

/** A verified caller: the token subject and the roles Toneguard knows. */
export interface Principal {
  sub: string;
  roles: Role[];
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

/** Verifies against `auth.jwksUrl`, or in development without one, against the dev issuer's key. */
export function createTokenVerifier(config: Config): TokenVerifier {
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
        }));
      } catch (err) {
        throw new AuthError(reasonFor(err));
      }
      if (typeof payload.sub !== 'string' || payload.sub === '') throw new AuthError('missing_subject');
      return { sub: payload.sub, roles: rolesFrom(payload[auth.roleClaim]) };
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

/** Records an `auth.denied` event and answers 403. */
export function deny403(res: Response, audit: AuditSink, reason: string, resource?: { type: string; id: string }): void {
  const principal = principalOf(res);
  audit.record({ action: 'auth.denied', actor: actorOf(principal), outcome: 'denied', ...(resource ? { resource } : {}), details: { reason } });
  sendError(res, 403, 'forbidden', 'this identity may not do that');
}

/** Lets the request through only when the authenticated principal holds one of `roles`. Use after `authenticate`. */
export function requireRole(audit: AuditSink, ...roles: Role[]): RequestHandler {
  return (_req, res, next) => {
    if (principalOf(res).roles.some((r) => roles.includes(r))) return next();
    deny403(res, audit, 'role');
  };
}
