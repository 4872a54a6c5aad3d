import { describe, expect, it } from 'vitest';
import { powerToDbm0 } from '../../../src/dsp/index.js';
import { COMFORT_NOISE_DBM0 } from '../../../src/dsp/tones.js';
import { Concealer, FRAME_SAMPLES } from '../../../src/telephony/sip/rtp/concealment.js';

const meanPowerDbm0 = (frames: Int16Array[]): number => {
  const samples = frames.flatMap((f) => Array.from(f));
  return powerToDbm0(samples.reduce((e, x) => e + x * x, 0) / samples.length);
};

describe('Concealer', () => {
  it('fills a telephone-event with comfort noise at the comfort-noise level, not silence', () => {
    const concealer = new Concealer();
    concealer.played(new Int16Array(FRAME_SAMPLES).fill(3000));
    const frames: Int16Array[] = [];
    concealer.fill(8000, 'event', (frame) => frames.push(frame.slice()));
    expect(frames.length).toBe(50);
    expect(Math.abs(meanPowerDbm0(frames) - COMFORT_NOISE_DBM0)).toBeLessThan(1);
  });

  it('repeats the last frame at halving gain over a short loss, then turns to comfort noise', () => {
    const concealer = new Concealer();
    concealer.played(new Int16Array(FRAME_SAMPLES).fill(3000));
    const frames: Int16Array[] = [];
    concealer.fill(6 * FRAME_SAMPLES, 'loss', (frame) => frames.push(frame.slice()));
    expect(frames.slice(0, 3).map((f) => f[0])).toEqual([1500, 750, 375]);
    expect(Math.abs(meanPowerDbm0(frames.slice(3)) - COMFORT_NOISE_DBM0)).toBeLessThan(2);
  });
});
