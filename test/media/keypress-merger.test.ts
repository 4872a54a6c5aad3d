import { describe, expect, it } from 'vitest';
import { KeypressMerger, MERGE_WINDOW_MS } from '../../src/media/index.js';

describe('merging event and in-band reports of one keypress', () => {
  it('keeps the first report from either side and drops the other within the window', () => {
    const merger = new KeypressMerger();
    expect(merger.accept('5', 1000, 'inband')).toBe(true);
    expect(merger.accept('5', 1100, 'event')).toBe(false);
    expect(merger.accept('5', 2000, 'event')).toBe(true);
    expect(merger.accept('5', 1900, 'inband')).toBe(false);
  });

  it('counts repeated presses of the same key, and different keys, separately', () => {
    const merger = new KeypressMerger();
    expect(merger.accept('1', 0, 'inband')).toBe(true);
    expect(merger.accept('1', 200, 'inband')).toBe(true);
    expect(merger.accept('1', 250, 'event')).toBe(false);
    expect(merger.accept('1', 300, 'event')).toBe(true);
    expect(merger.accept('2', 310, 'inband')).toBe(true);
    expect(merger.accept('2', 320 + MERGE_WINDOW_MS, 'event')).toBe(true);
  });
});
