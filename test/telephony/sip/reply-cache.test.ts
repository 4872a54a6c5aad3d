import { describe, expect, it } from 'vitest';
import { ReplyCache } from '../../../src/telephony/sip/ng/reply-cache.js';

describe('ng reply cache', () => {
  it('answers a retransmission with the first reply, even while that one is still being made', async () => {
    const cache = new ReplyCache<string>({ ttlMs: 1_000, maxEntries: 10 });
    let runs = 0;
    let finish: (value: string) => void = () => undefined;
    const first = cache.reply('c1', () => {
      runs++;
      return new Promise((resolve) => (finish = resolve));
    });
    const again = cache.reply('c1', async () => {
      runs++;
      return 'second';
    });
    expect(again.duplicate).toBe(true);
    finish('first');
    expect(await again.reply).toBe('first');
    expect(await first.reply).toBe('first');
    expect(runs).toBe(1);
  });

  it('forgets replies after ttlMs, and the oldest beyond maxEntries', async () => {
    let now = 0;
    const cache = new ReplyCache<number>({ ttlMs: 1_000, maxEntries: 3, now: () => now });
    for (let i = 0; i < 5; i++) cache.reply(`c${i}`, async () => i);
    expect(cache.size).toBe(3);
    expect(cache.reply('c0', async () => 99).duplicate).toBe(false);
    expect(cache.reply('c4', async () => 99).duplicate).toBe(true);
    now = 1_000;
    expect(cache.reply('c4', async () => 7).duplicate).toBe(false);
    expect(await cache.reply('c4', async () => 8).reply).toBe(7);
    expect(cache.size).toBe(1);
  });
});
