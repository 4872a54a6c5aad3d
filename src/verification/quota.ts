/** Keys a quota may track before the stalest are dropped, so a flood of account references cannot exhaust memory. */
const MAX_KEYS = 10_000;

/** At most `limit` uses per key in any sliding `windowMs`. Pure: the caller passes the time. */
export class SlidingQuota {
  private readonly uses = new Map<string, number[]>();

  constructor(
    private readonly windowMs: number,
    private readonly limit: number,
  ) {}

  /** Whether another use would fit now (nothing is counted). */
  allows(key: string, nowMs: number): boolean {
    return this.recent(key, nowMs).length < this.limit;
  }

  /** Counts one use; returns false (and counts nothing) when the quota is spent. */
  take(key: string, nowMs: number): boolean {
    const times = this.recent(key, nowMs);
    if (times.length >= this.limit) return false;
    times.push(nowMs);
    this.uses.delete(key);
    if (this.uses.size >= MAX_KEYS) this.uses.delete(this.uses.keys().next().value as string);
    this.uses.set(key, times);
    return true;
  }

  private recent(key: string, nowMs: number): number[] {
    return (this.uses.get(key) ?? []).filter((at) => at > nowMs - this.windowMs);
  }
}
