import { seqDiff } from './packet.js';

/**
 * Puts one RTP source's packets back in sequence-number order, with a hard bound on the delay it
 * adds. Packets that arrive in order are released at once (no added delay on a clean network).
 * A gap holds later packets until the missing one arrives, until more than `depth` packets are
 * held, or until the oldest held packet has waited `maxWaitMs` (checked by `poll`, which the
 * relay calls every 20 ms): then the gap is declared lost and the stream moves on. It never
 * waits for a packet that is not coming, and it never holds more than `depth` packets.
 *
 * Duplicates and packets behind the play-out point are dropped. A jump of more than
 * `MAX_DROPOUT` ahead or `MAX_MISORDER` behind is a restarted sender only once the next
 * packet confirms it (RFC 3550 A.1 probation), so one stray packet cannot derail the stream.
 */

export interface JitterBufferOptions {
  /** Packets held while waiting for a missing one (2 × 20 ms packets: at most 40 ms added). */
  depth: number;
  /** The longest a held packet waits for the gap before it to fill. */
  maxWaitMs: number;
}

export interface JitterStats {
  released: number;
  /** Sequence numbers skipped over (never arrived in time). */
  lost: number;
  late: number;
  duplicates: number;
  /** Restarts of the sequence accepted after probation. */
  resyncs: number;
  /** Packets dropped as out of range while a restart was unconfirmed. */
  probation: number;
}

const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;

interface Held<T> {
  seq: number;
  item: T;
  arrivedMs: number;
}

export class JitterBuffer<T> {
  private expected: number | null = null;
  /** Sorted by sequence distance from `expected`; at most `depth` entries between calls. */
  private readonly held: Held<T>[] = [];
  private probationSeq: number | null = null;
  readonly stats: JitterStats = { released: 0, lost: 0, late: 0, duplicates: 0, resyncs: 0, probation: 0 };

  constructor(
    private readonly options: JitterBufferOptions,
    /** Receives packets in order; `lostBefore` counts the sequence numbers skipped just before this one. */
    private readonly release: (item: T, seq: number, lostBefore: number) => void,
  ) {
    if (!(options.depth >= 0) || !(options.maxWaitMs >= 0)) throw new RangeError('jitter buffer depth and wait must be non-negative');
  }

  get size(): number {
    return this.held.length;
  }

  push(seq: number, item: T, nowMs: number): void {
    seq &= 0xffff;
    if (this.expected === null) this.expected = seq;
    const d = seqDiff(seq, this.expected);
    if (d < -MAX_MISORDER || d > MAX_DROPOUT) {
      if (this.probationSeq !== seq) {
        this.probationSeq = (seq + 1) & 0xffff;
        this.stats.probation++;
        return;
      }
      this.flush();
      this.stats.resyncs++;
      this.expected = seq;
    } else if (d < 0) {
      this.stats.late++;
      return;
    }
    this.probationSeq = null;
    const distance = seqDiff(seq, this.expected);
    let at = this.held.length;
    for (let i = 0; i < this.held.length; i++) {
      const other = seqDiff(this.held[i].seq, this.expected);
      if (other === distance) {
        this.stats.duplicates++;
        return;
      }
      if (other > distance) {
        at = i;
        break;
      }
    }
    this.held.splice(at, 0, { seq, item, arrivedMs: nowMs });
    this.drain();
    while (this.held.length > this.options.depth) this.skipToHead();
  }

  /** Releases what has waited `maxWaitMs` for a gap (and whatever follows it in order). */
  poll(nowMs: number): void {
    while (this.held.length > 0 && nowMs - this.oldestArrival() >= this.options.maxWaitMs) this.skipToHead();
  }

  /** Releases everything held, in order (the source changed or the call ends). */
  flush(): void {
    while (this.held.length > 0) this.skipToHead();
  }

  /** Forgets the sequence position (a new SSRC): the next packet starts afresh. */
  reset(): void {
    this.flush();
    this.expected = null;
    this.probationSeq = null;
  }

  private oldestArrival(): number {
    let oldest = Infinity;
    for (const h of this.held) oldest = Math.min(oldest, h.arrivedMs);
    return oldest;
  }

  private skipToHead(): void {
    const head = this.held[0];
    if (this.expected === null || !head) return;
    const lost = seqDiff(head.seq, this.expected);
    this.stats.lost += lost;
    this.emit(lost);
    this.drain();
  }

  private drain(): void {
    while (this.held.length > 0 && this.held[0].seq === this.expected) this.emit(0);
  }

  private emit(lostBefore: number): void {
    const head = this.held.shift() as Held<T>;
    this.expected = (head.seq + 1) & 0xffff;
    this.stats.released++;
    this.release(head.item, head.seq, lostBefore);
  }
}
