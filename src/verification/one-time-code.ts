import { createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

export type CodeCheck = 'match' | 'mismatch' | 'expired' | 'void';

export interface IssuedCode {
  challenge: OneTimeCodeChallenge;
  /** The code to send; the only copy outside the HMAC. Send it and drop it. */
  code: string;
}

/**
 * One one-time code as the verifier keeps it: an HMAC digest under a per-process key (a dump
 * of memory or state never yields the code), an expiry and an attempt budget. The comparison
 * is constant-time over digests, so timing says nothing about how many digits were right.
 */
export class OneTimeCodeChallenge {
  private attempts = 0;
  private settled = false;

  private constructor(
    private readonly key: Buffer,
    private readonly salt: Buffer,
    private readonly digest: Buffer,
    readonly length: number,
    readonly expiresAtMs: number,
    readonly maxAttempts: number,
  ) {}

  static issue(options: { key: Buffer; length: number; ttlMs: number; maxAttempts: number; nowMs: number }): IssuedCode {
    const code = String(randomInt(0, 10 ** options.length)).padStart(options.length, '0');
    const salt = randomBytes(16);
    const digest = hmac(options.key, salt, Buffer.from(code, 'latin1'));
    const challenge = new OneTimeCodeChallenge(options.key, salt, digest, options.length, options.nowMs + options.ttlMs, options.maxAttempts);
    return { challenge, code };
  }

  /** Compares typed ASCII digits. A match or the last wrong attempt voids the challenge. */
  check(typed: Uint8Array, nowMs: number): CodeCheck {
    if (this.settled) return 'void';
    if (nowMs >= this.expiresAtMs) {
      this.settled = true;
      return 'expired';
    }
    const matches = timingSafeEqual(hmac(this.key, this.salt, typed), this.digest);
    this.attempts += 1;
    if (matches || this.attempts >= this.maxAttempts) this.settled = true;
    return matches ? 'match' : 'mismatch';
  }

  get attemptsUsed(): number {
    return this.attempts;
  }

  isOpen(nowMs: number): boolean {
    return !this.settled && nowMs < this.expiresAtMs;
  }

  /** The agent looked up another account or the call ended: the code may no longer be used. */
  void(): void {
    this.settled = true;
  }
}

function hmac(key: Buffer, salt: Buffer, digits: Uint8Array): Buffer {
  return createHmac('sha256', key).update(salt).update(digits).digest();
}
