import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, type JWK } from 'jose';
import type { Config } from '../config/index.js';
import { ToneguardError } from '../errors.js';

/** The development-only local identity provider: an ES256 key kept under `{dataDir}/dev-issuer/`. */
export interface DevIssuerKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: JWK;
}

const TOKEN_LIFETIME_SEC = 8 * 3600;

export function devIssuerEnabled(config: Config): boolean {
  return config.profile === 'development' && config.auth.devIssuer;
}

export function loadDevIssuerKey(dataDir: string): DevIssuerKey {
  const dir = join(dataDir, 'dev-issuer');
  const path = join(dir, 'signing.jwk');
  let privateKey: KeyObject;
  if (existsSync(path)) {
    privateKey = createPrivateKey({ key: JSON.parse(readFileSync(path, 'utf8')), format: 'jwk' });
  } else {
    privateKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(path, JSON.stringify(privateKey.export({ format: 'jwk' })), { mode: 0o600 });
  }
  const { kty, crv, x, y } = createPublicKey(privateKey).export({ format: 'jwk' });
  const kid = 'dev-' + createHash('sha256').update(JSON.stringify({ crv, kty, x, y })).digest('base64url');
  return { kid, privateKey, publicJwk: { kty, crv, x, y, kid, alg: 'ES256', use: 'sig' } as JWK };
}

/** Signs a development token for `sub` with one role, as the configured issuer and audience expect (8 h unless `lifetimeSec`). */
export async function mintDevToken(config: Config, claims: { sub: string; role: string; lifetimeSec?: number }): Promise<string> {
  if (!devIssuerEnabled(config)) throw new ToneguardError('dev_issuer_disabled', 'the development issuer is off', 403);
  const key = loadDevIssuerKey(config.dataDir);
  return new SignJWT({ [config.auth.roleClaim]: [claims.role] })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuer(config.auth.issuer)
    .setAudience(config.auth.audience)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (claims.lifetimeSec ?? TOKEN_LIFETIME_SEC))
    .sign(key.privateKey);
}
