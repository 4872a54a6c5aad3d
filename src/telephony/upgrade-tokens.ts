import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config/index.js';
import { isClusterMode } from '../config/cluster.js';

const TOKEN = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{43})$/;

/**
 * Short-lived bearer tokens for media upgrades, for platforms that send a token Toneguard wrote
 * into the call-control document (SignalWire's `authBearerToken`) instead of signing the upgrade.
 * `{expiry}.{HMAC-SHA256}` under `upgradeTokenKey`: a token proves the socket follows a document
 * this service (any node of its cluster) issued recently. It is not single-use: what admits a stream to a call is still the
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

/**
 * The key of a provider's upgrade tokens. On a single node it is random per process. In cluster
 * mode a call's streams may reach any node (the one it is pinned to, or a failover target), so
 * every node derives the same key (HKDF-SHA256) from the shared audit HMAC key, under an info
 * string of its own (`purpose`): no node generates a key, and the audit key itself signs nothing else.
 */
export function upgradeTokenKey(config: Pick<Config, 'cluster' | 'audit'>, purpose: string): Buffer {
  const shared = config.audit.hmacKey;
  if (!isClusterMode(config) || !shared) return randomBytes(32);
  return Buffer.from(hkdfSync('sha256', Buffer.from(shared, 'utf8'), Buffer.alloc(0), `toneguard ${purpose} upgrade tokens v1`, 32));
}

/** The token of an `Authorization: Bearer …` header, if there is one. */
export function bearerToken(header: string | undefined): string | undefined {
  return header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
}
