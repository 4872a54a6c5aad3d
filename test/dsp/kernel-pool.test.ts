import { describe, expect, it } from 'vitest';
import { DtmfFilterBank } from '../../src/dsp/filter-bank.js';
import { KernelPool, REGION_BYTES } from '../../src/dsp/kernel-pool.js';

describe('the kernel pool', () => {
  it('serves 20,000 filter banks at once, each with its own state (one memory per bank ran out near 13,000)', () => {
    const tone = Int16Array.from({ length: 40 }, (_, n) => Math.round(8000 * Math.sin((2 * Math.PI * 697 * n) / 8000)));
    const banks = Array.from({ length: 20_000 }, () => new DtmfFilterBank());
    banks[12_345].feed(tone, 0, tone.length);
    expect(banks[12_345].energyOf(0)).toBeGreaterThan(0);
    expect(banks[12_344].energyOf(0)).toBe(0);
    expect(banks[12_346].energyOf(0)).toBe(0);
    for (const bank of [banks[0], banks[19_999]]) {
      bank.feed(tone, 0, tone.length);
      expect(bank.energyOf(0)).toBe(banks[12_345].energyOf(0));
    }
  });

  it('zeroes a region before handing it out again', () => {
    const pool = new KernelPool();
    const region = pool.acquire({});
    new Uint8Array(region.buffer, region.base, REGION_BYTES).fill(0xa5);
    pool.release(region);
    const again = pool.acquire({});
    expect(again.base).toBe(region.base);
    expect(new Uint8Array(again.buffer, again.base, REGION_BYTES).every((byte) => byte === 0)).toBe(true);
    expect(pool.instances).toBe(1);
  });
});
