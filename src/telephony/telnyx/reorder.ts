/** What the reorderer did with frames that did not arrive in order; counted per stream, exported as metrics. */
export interface ReorderCounts {
  /** Held back until the frames before them arrived. */
  reordered: number;
  /** A sequence number seen before (delivered or still held): dropped. */
  duplicate: number;
  /** Arrived after its place was given up: dropped. */
  late: number;
  /** Sequence numbers never seen, given up when the window filled. */
  missing: number;
}

/** A jump further than this ahead is a restart of the numbering, not a loss (1 s of 20 ms frames). */
const RESYNC_JUMP = 50;
/** How many delivered sequence numbers are remembered to tell a duplicate from a late frame. */
const RECENT = 64;

/**
 * Puts messages back in `sequence_number` order within a small window: in-order messages pass
 * straight through (no added delay), a gap holds later messages back until the missing one
 * arrives or `window` messages are waiting (then it is given up). Pure: no timers, no sockets.
 */
export class Reorderer<T> {
  readonly counts: ReorderCounts = { reordered: 0, duplicate: 0, late: 0, missing: 0 };
  private next: number | undefined;
  private readonly held = new Map<number, T>();
  private readonly recent: number[] = [];

  constructor(private readonly window: number) {}

  /** Numbering starts after `sequence` (the stream's `start` carried it). */
  startAfter(sequence: number): void {
    this.next = sequence + 1;
  }

  /** Accepts message `sequence`; returns the messages now due, in order (often just this one). */
  push(sequence: number, item: T): T[] {
    if (this.next === undefined) this.next = sequence;
    if (sequence < this.next) {
      if (this.recent.includes(sequence)) this.counts.duplicate++;
      else this.counts.late++;
      return [];
    }
    if (this.held.has(sequence)) {
      this.counts.duplicate++;
      return [];
    }
    if (sequence > this.next + RESYNC_JUMP) {
      const due = this.flush();
      this.next = sequence;
      return [...due, ...this.deliver(sequence, item)];
    }
    if (sequence === this.next) return this.deliver(sequence, item);
    this.held.set(sequence, item);
    this.counts.reordered++;
    return this.held.size > this.window ? this.giveUpGap() : [];
  }

  /** Everything still held, in order (the stream ended). */
  flush(): T[] {
    const due: T[] = [];
    for (const sequence of [...this.held.keys()].sort((a, b) => a - b)) {
      due.push(this.held.get(sequence) as T);
      this.remember(sequence);
    }
    this.held.clear();
    return due;
  }

  private deliver(sequence: number, item: T): T[] {
    const due = [item];
    this.remember(sequence);
    this.next = sequence + 1;
    while (this.held.has(this.next)) {
      due.push(this.held.get(this.next) as T);
      this.held.delete(this.next);
      this.remember(this.next);
      this.next++;
    }
    return due;
  }

  private giveUpGap(): T[] {
    const first = Math.min(...this.held.keys());
    this.counts.missing += first - (this.next as number);
    const item = this.held.get(first) as T;
    this.held.delete(first);
    return this.deliver(first, item);
  }

  private remember(sequence: number): void {
    this.recent.push(sequence);
    if (this.recent.length > RECENT) this.recent.shift();
  }
}
