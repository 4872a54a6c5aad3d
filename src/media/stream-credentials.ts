import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
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

const VERSION = 'v1';
const NONCE_BYTES = 16;
const MAC_BYTES = 32;
const TOKEN = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

/**
 * Per-leg, single-use, expiring stream credentials: `{expiry}.{nonce}.{HMAC-SHA256}` over the
 * claim, the expiry and the nonce. The issuer puts one in each stream instruction (as a parameter of the
 * call-control document), the platform echoes it in the stream's start, and `redeem` admits it once.
 *
 * The key is random per process: a credential never outlives the process that issued it, and
 * neither do the calls it could join (the call registry is in memory). Redeemed nonces are kept
 * only until their credential would have expired anyway, so the memory is bounded by the issue
 * rate times the lifetime.
 */
export class StreamCredentials {
  private readonly redeemed = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly key: Buffer = randomBytes(32),
    private readonly now: () => number = Date.now,
  ) {}

  issue(claim: StreamClaim): string {
    const expiry = (this.now() + this.ttlMs).toString(36);
    const nonce = randomBytes(NONCE_BYTES).toString('base64url');
    return `${expiry}.${nonce}.${this.mac(claim, expiry, nonce).toString('base64url')}`;
  }

  /** Checks the credential against the claim the stream start makes, and spends it. */
  redeem(claim: StreamClaim, token: string | undefined): RedeemResult {
    const parts = token === undefined ? null : TOKEN.exec(token);
    if (!parts) return { ok: false, reason: 'credential_invalid' };
    const [, expiry, nonce, mac] = parts;
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== MAC_BYTES || !timingSafeEqual(given, this.mac(claim, expiry, nonce))) return { ok: false, reason: 'credential_invalid' };
    const expiresAt = parseInt(expiry, 36);
    const now = this.now();
    this.forgetExpired(now);
    if (expiresAt <= now) return { ok: false, reason: 'credential_expired' };
    if (this.redeemed.has(nonce)) return { ok: false, reason: 'credential_reused' };
    this.redeemed.set(nonce, expiresAt);
    return { ok: true };
  }

  private mac(claim: StreamClaim, expiry: string, nonce: string): Buffer {
    // Length-prefixed fields, so that no two different claims share an input.
    const fields = [VERSION, claim.leg, claim.legCallId, claim.agentId ?? '', expiry, nonce];
    const hmac = createHmac('sha256', this.key);
    for (const field of fields) hmac.update(`${field.length}:${field};`);
    return hmac.digest();
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
