import type { KeySource, Keypress } from '../capture/types.js';

/** A platform DTMF event (a provider's `dtmf` message, RFC 4733) and the in-band detection of the same keypress arrive within this window. */
export const MERGE_WINDOW_MS = 250;

/**
 * Merges the two reports of one keypress (platform event and in-band tone) into one digit,
 * whichever comes first. Pure: times are caller-audio milliseconds.
 */
export class KeypressMerger {
  private lastKey: Keypress | null = null;
  private lastAtMs = 0;
  private lastSource: KeySource = 'inband';
  private lastMerged = false;

  constructor(private readonly windowMs = MERGE_WINDOW_MS) {}

  /** True when this report is a new keypress; false when it repeats the other source's report of the last one. */
  accept(key: Keypress, atMs: number, source: KeySource): boolean {
    const duplicate =
      !this.lastMerged && this.lastKey === key && this.lastSource !== source && Math.abs(atMs - this.lastAtMs) <= this.windowMs;
    if (duplicate) {
      this.lastMerged = true;
      return false;
    }
    this.lastKey = key;
    this.lastAtMs = atMs;
    this.lastSource = source;
    this.lastMerged = false;
    return true;
  }
}
