/** Packets per second a side may send before the rest is dropped unread: 50 pps audio plus events, RTCP and bursts after a stall. */
export const PACKETS_PER_SECOND = 250;
const BURST = 250;

/** A token bucket per side: a flood costs one comparison per packet and never reaches the parser. */
export class PacketBucket {
  private tokens = BURST;
  private atMs: number | null = null;

  take(nowMs: number): boolean {
    if (this.atMs !== null) this.tokens = Math.min(BURST, this.tokens + ((nowMs - this.atMs) * PACKETS_PER_SECOND) / 1000);
    this.atMs = nowMs;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }
}
