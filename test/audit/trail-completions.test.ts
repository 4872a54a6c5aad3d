import { describe, expect, it } from 'vitest';
import { COMPLETIONS_PER_TURN, CompletionQueue, untilQuiet } from '../../src/audit/trail-completions.js';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('completions released in slices', () => {
  it('settles the first slice at once, then one slice per turn of the loop, in order', async () => {
    const queue = new CompletionQueue();
    const settled: number[] = [];
    queue.release(Array.from({ length: 20 }, (_, i) => () => settled.push(i)));
    expect(settled).toEqual(Array.from({ length: COMPLETIONS_PER_TURN }, (_, i) => i));
    await nextTurn();
    expect(settled).toHaveLength(2 * COMPLETIONS_PER_TURN);
    await queue.drained();
    expect(settled).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('lets work queued on the loop meanwhile (a read) run before the rest of the burst', async () => {
    const queue = new CompletionQueue(4);
    const order: string[] = [];
    queue.release(Array.from({ length: 12 }, (_, i) => () => order.push(`done ${i}`)));
    setImmediate(() => order.push('read'));
    await queue.drained();
    expect(order.indexOf('read')).toBeLessThan(order.indexOf('done 11'));
    expect(order.indexOf('read')).toBeGreaterThanOrEqual(4);
  });

  it('keeps order when more completions arrive while a burst is being released', async () => {
    const queue = new CompletionQueue(2);
    const settled: string[] = [];
    queue.release(['a', 'b', 'c'].map((s) => () => settled.push(s)));
    queue.release(['d', 'e'].map((s) => () => settled.push(s)));
    await queue.drained();
    expect(settled).toEqual(['a', 'b', 'c', 'd', 'e']);
  });
});

describe('untilQuiet', () => {
  it('waits while each turn adds work, and goes once a turn adds none', async () => {
    let queued = 1;
    let turns = 0;
    const feed = (): void => {
      turns += 1;
      if (turns <= 3) queued += 1;
      if (turns < 10) setImmediate(feed);
    };
    setImmediate(feed);
    await untilQuiet(() => queued, 100);
    expect(queued).toBe(4);
  });

  it('goes at once when the limit is reached', async () => {
    let turned = false;
    setImmediate(() => (turned = true));
    await untilQuiet(() => 10, 10);
    expect(turned).toBe(false);
  });
});
