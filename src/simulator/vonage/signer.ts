import { createHash, createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';

/**
 * Plays Vonage's signing: webhooks (and the media upgrade) carry `Authorization: Bearer <JWT>`,
 * HS256 with the account's signature secret, with `iat`, `jti`, `api_key`, `application_id` and,
 * over a payload, `payload_hash` (SHA-256, hex). Also holds the application's key pair: the
 * service signs its REST calls with the private half, the REST stand-in checks them with the public.
 */
export class VonageSigner {
  readonly applicationId: string;
  readonly apiKey: string;
  readonly signatureSecret: string;
  readonly privateKeyPem: string;
  readonly publicKey: KeyObject;

  /** A fresh account and application, or (for a configured service) its secret, api key, application and private key. */
  constructor(account: { signatureSecret?: string; apiKey?: string; applicationId?: string; privateKeyPem?: string } = {}) {
    this.signatureSecret = account.signatureSecret ?? randomUUID() + randomUUID();
    this.apiKey = account.apiKey || 'a1b2c3d4';
    this.applicationId = account.applicationId ?? randomUUID();
    if (account.privateKeyPem) {
      this.privateKeyPem = account.privateKeyPem;
      this.publicKey = createPublicKey(account.privateKeyPem);
    } else {
      const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
      this.privateKeyPem = pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
      this.publicKey = pair.publicKey;
    }
  }

  /** The JWT Vonage would send with `payload` (the JSON it posts, or of the query it sends); none for an upgrade. */
  async token(payload?: string, issuedAtSeconds = Math.floor(Date.now() / 1000), secret = this.signatureSecret): Promise<string> {
    const claims: Record<string, unknown> = { application_id: this.applicationId, api_key: this.apiKey };
    if (payload !== undefined) claims.payload_hash = createHash('sha256').update(payload).digest('hex');
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt(issuedAtSeconds)
      .setJti(randomUUID())
      .setIssuer('Vonage')
      .sign(Buffer.from(secret));
  }

  async authorization(payload?: string, issuedAtSeconds?: number): Promise<string> {
    return `Bearer ${await this.token(payload, issuedAtSeconds)}`;
  }
}
