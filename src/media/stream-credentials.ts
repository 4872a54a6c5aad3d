import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { LegRole } from './types.js';

/** What one credential admits: one leg of one call, stream-started by the platform call `legCallId`. */
export interface StreamClaim {
  leg: LegRole;
  /** The call id the platform reports in this leg's stream start (the caller's call, or the agent call we placed). */
  legCallId: string;
  /** The agent identity bound to an agent leg. */
  agentId?: string;
}

export type CredentialRefusal = 'credential_invalid' | 'credential_expired' | 'credential_reused';

export type RedeemResult = { ok: true } | { ok: false; reason: CredentialRefusal };

/**
 * Where spent credentials are remembered. In memory for one process; in cluster mode shared
 * (Redis), because a credential issued by one node may be presented to any node.
 */
export interface RedeemedCredentials {
  /** Marks `nonce` spent until `expiresAt` (epoch ms); false when it was spent already. */
  claim(nonce: string, expiresAt: number, now: number): boolean | Promise<boolean>;
}

/** The HKDF info that derives the cluster's stream-credential key from the audit HMAC key. */
export const STREAM_CREDENTIAL_KEY_INFO = 'toneguard stream credentials v1';

/**
 * The stream-credential key every node of a cluster shares: derived (HKDF-SHA256) from the audit
 * HMAC key, so that no node generates a key of its own and the audit key itself never signs streams.
 */
export function deriveStreamCredentialKey(auditHmacKey: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(auditHmacKey, 'utf8'), Buffer.alloc(0), STREAM_CREDENTIAL_KEY_INFO, 32));
}

const VERSION = 'v1';
const NONCE_BYTES = 16;
const MAC_BYTES = 32;
const TOKEN = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

/**
 * One process's spent nonces, kept only until their credential would have expired anyway, so the
 * memory is bounded by the issue rate times the lifetime.
 */
export class MemoryRedeemedCredentials implements RedeemedCredentials {
  private readonly redeemed = new Map<string, number>();

  claim(nonce: string, expiresAt: number, now: number): boolean {
    this.forgetExpired(now);
    if (this.redeemed.has(nonce)) return false;
    this.redeemed.set(nonce, expiresAt);
    return true;
  }

  /**
   * Every credential shares one lifetime, so redemption order is nearly expiry order: stopping at
   * the first live entry keeps this O(expired), and a stale entry lingers at most one lifetime.
   */
  private forgetExpired(now: number): void {
    for (const [nonce, expiresAt] of this.redeemed) {
      if (expiresAt > now) return;
      this.redeemed.delete(nonce);
    }
  }
}

/**
 * Per-leg, single-use, expiring stream credentials: `{expiry}.{nonce}.{HMAC-SHA256}` over the
 * claim, the expiry and the nonce. The issuer puts one in each stream instruction (as a parameter of the
 * call-control document), the platform echoes it in the stream's start, and `redeem` admits it once.
 *
 * On a single node the key is random per process: a credential never outlives the process that
 * issued it, nor do the in-memory calls it could join. A cluster passes the key every node derives
 * (`deriveStreamCredentialKey`) and a shared store of spent nonces; `redeem` then answers asynchronously.
 */
export class StreamCredentials {
  constructor(
    private readonly ttlMs: number,
    private readonly key: Buffer = randomBytes(32),
    private readonly now: () => number = Date.now,
    private readonly redeemed: RedeemedCredentials = new MemoryRedeemedCredentials(),
  ) {}

  issue(claim: StreamClaim): string {
    const expiry = (this.now() + this.ttlMs).toString(36);
    const nonce = randomBytes(NONCE_BYTES).toString('base64url');
    return `${expiry}.${nonce}.${this.mac(claim, expiry, nonce).toString('base64url')}`;
  }

  /** Checks the credential against the claim the stream start makes, and spends it. */
  redeem(claim: StreamClaim, token: string | undefined): RedeemResult | Promise<RedeemResult> {
    const parts = token === undefined ? null : TOKEN.exec(token);
    if (!parts) return { ok: false, reason: 'credential_invalid' };
    const [, expiry, nonce, mac] = parts;
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== MAC_BYTES || !timingSafeEqual(given, this.mac(claim, expiry, nonce))) return { ok: false, reason: 'credential_invalid' };
    const expiresAt = parseInt(expiry, 36);
    const now = this.now();
    if (expiresAt <= now) return { ok: false, reason: 'credential_expired' };
    const claimed = this.redeemed.claim(nonce, expiresAt, now);
    return typeof claimed === 'boolean' ? spent(claimed) : claimed.then(spent);
  }

  private mac(claim: StreamClaim, expiry: string, nonce: string): Buffer {
    // Length-prefixed fields, so that no two different claims share an input.
    const fields = [VERSION, claim.leg, claim.legCallId, claim.agentId ?? '', expiry, nonce];
    const hmac = createHmac('sha256', this.key);
    for (const field of fields) hmac.update(`${field.length}:${field};`);
    return hmac.digest();
  }
}

const spent = (claimed: boolean): RedeemResult => (claimed ? { ok: true } : { ok: false, reason: 'credential_reused' });
