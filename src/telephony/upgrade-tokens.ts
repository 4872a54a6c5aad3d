import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const TOKEN = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{43})$/;

/**
 * Short-lived bearer tokens for media upgrades, for platforms that send a token Toneguard wrote
 * into the call-control document (SignalWire's `authBearerToken`) instead of signing the upgrade.
 * `{expiry}.{HMAC-SHA256}` under a per-process key: a token proves the socket follows a document
 * this process issued recently. It is not single-use: what admits a stream to a call is still the
 * leg's stream credential, redeemed at `start`.
 */
export class UpgradeTokens {
  constructor(
    private readonly ttlMs: number,
    private readonly key: Buffer = randomBytes(32),
    private readonly now: () => number = Date.now,
  ) {}

  issue(): string {
    const expiry = (this.now() + this.ttlMs).toString(36);
    return `${expiry}.${this.mac(expiry).toString('base64url')}`;
  }

  valid(token: string | undefined): boolean {
    const parts = token === undefined ? null : TOKEN.exec(token);
    if (!parts) return false;
    const given = Buffer.from(parts[2], 'base64url');
    const expected = this.mac(parts[1]);
    return given.length === expected.length && timingSafeEqual(given, expected) && parseInt(parts[1], 36) > this.now();
  }

  private mac(expiry: string): Buffer {
    return createHmac('sha256', this.key).update(`upgrade:${expiry}`).digest();
  }
}

/** The token of an `Authorization: Bearer …` header, if there is one. */
export function bearerToken(header: string | undefined): string | undefined {
  return header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
}
