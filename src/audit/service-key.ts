import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FlattenedSign, type FlattenedJWS, type JWK } from 'jose';
import { ToneguardError } from '../errors.js';

/**
 * Toneguard's own signing key (ES256): signs alert webhooks and outbound assertions.
 * Its public half is published at `/.well-known/jwks.json` (see `getServiceJwks`).
 * Structurally a `ServiceSigner` (`kid`, `alg`, `key`), so processors can use it as is.
 */
export class ServiceSigningKey {
  readonly alg = 'ES256';
  readonly kid: string;
  readonly publicJwk: JWK;

  private constructor(readonly key: KeyObject) {
    const { kty, crv, x, y } = createPublicKey(key).export({ format: 'jwk' });
    // RFC 7638 thumbprint: required members in lexicographic order.
    this.kid = createHash('sha256').update(JSON.stringify({ crv, kty, x, y })).digest('base64url');
    this.publicJwk = { kty, crv, x, y, kid: this.kid, alg: this.alg, use: 'sig' } as JWK;
  }

  static generate(): ServiceSigningKey {
    return new ServiceSigningKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
  }

  /**
   * The key every cluster node shares, from a private EC P-256 JWK file (`TONEGUARD_SIGNING_KEY_FILE`).
   * Throws `signing_key_invalid` naming the file, never echoing its content.
   */
  static fromFile(path: string): ServiceSigningKey {
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: JSON.parse(readFileSync(path, 'utf8')), format: 'jwk' });
    } catch (err) {
      throw new ToneguardError('signing_key_invalid', `The signing key file ${path} is not a private JWK`, 500, { cause: err });
    }
    const details = key.asymmetricKeyDetails;
    if (key.asymmetricKeyType !== 'ec' || details?.namedCurve !== 'prime256v1') {
      throw new ToneguardError('signing_key_invalid', `The signing key file ${path} must hold an EC P-256 private JWK (ES256)`, 500);
    }
    return new ServiceSigningKey(key);
  }

  /** Keeps the key under the data directory so it survives restarts (receivers cache the JWKS). */
  static loadOrCreate(dataDir: string): ServiceSigningKey {
    const path = serviceKeyPath(dataDir);
    if (existsSync(path)) return new ServiceSigningKey(createPrivateKey({ key: JSON.parse(readFileSync(path, 'utf8')), format: 'jwk' }));
    const created = ServiceSigningKey.generate();
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, JSON.stringify(created.key.export({ format: 'jwk' })), { mode: 0o600 });
    return created;
  }

  /**
   * Signs a JSON document as a flattened JWS (a JSON body that carries its own signature).
   * `typ` tells receivers what it is, so an alert cannot be replayed as a lookup or the reverse.
   */
  async signJson(payload: unknown, typ = 'toneguard-alert+json'): Promise<FlattenedJWS> {
    return new FlattenedSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader({ alg: this.alg, kid: this.kid, typ })
      .sign(this.key);
  }
}

export function serviceKeyPath(dataDir: string): string {
  return join(dataDir, 'keys', 'service-signing.jwk');
}

/** The service's public key set, as served at `/.well-known/jwks.json`. */
export function getServiceJwks(key: ServiceSigningKey): { keys: JWK[] } {
  return { keys: [key.publicJwk] };
}
