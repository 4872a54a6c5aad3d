/**
 * Symmetric RTP source learning (the "port latching" of rtpengine): the first packet that parses
 * fixes the peer's real address. Later packets from any other source are refused (rtpengine's
 * `strict source`), with one exception taken from rtpengine's heuristic learning: a source that
 * matches the address and port the SDP gave wins over a first source that did not, so a stray
 * packet that raced the real endpoint cannot keep the stream. A new SDP (re-INVITE) unlatches.
 */
export interface Endpoint {
  address: string;
  port: number;
}

export class Latch {
  private learned: (Endpoint & { fromSdp: boolean }) | null = null;
  relatches = 0;

  constructor(private expected: Endpoint | null = null) {}

  get endpoint(): Endpoint | null {
    return this.learned;
  }

  /** A new SDP address: learn again. */
  expect(expected: Endpoint | null): void {
    if (expected && this.expected && expected.address === this.expected.address && expected.port === this.expected.port) return;
    this.expected = expected;
    this.learned = null;
  }

  /** Whether a packet from this source is the peer's (cheap enough to run before parsing). */
  admits(address: string, port: number): boolean {
    const learned = this.learned;
    if (!learned) return true;
    if (learned.address === address && learned.port === port) return true;
    return !learned.fromSdp && this.matchesSdp(address, port);
  }

  /** Records the source of an admitted, well-formed packet. */
  learn(address: string, port: number): void {
    const learned = this.learned;
    if (learned && learned.address === address && learned.port === port) return;
    if (learned) this.relatches++;
    this.learned = { address, port, fromSdp: this.matchesSdp(address, port) };
  }

  private matchesSdp(address: string, port: number): boolean {
    return this.expected !== null && this.expected.address === address && this.expected.port === port;
  }
}
