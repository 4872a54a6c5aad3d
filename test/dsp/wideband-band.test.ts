import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TelephoneBandEnergy } from '../../src/dsp/telephone-band.js';

/** Gain in dB of the telephone-band energy for a sine at `freqHz` (16 kHz), after the filter settles. */
function gainDb(freqHz: number): number {
  const amplitude = 10000;
  const settle = 4000;
  const measured = 16000;
  const sine = Int16Array.from({ length: settle + measured }, (_, n) => Math.round(amplitude * Math.sin((2 * Math.PI * freqHz * n) / 16000 + 0.3)));
  const band = new TelephoneBandEnergy();
  band.sum(sine, 0, settle);
  const energy = band.sum(sine, settle, sine.length);
  return 10 * Math.log10(energy / ((measured * amplitude * amplitude) / 2));
}

describe('telephone-band energy at 16 kHz', () => {
  it('passes 0–3.4 kHz within 0.25 dB and removes 3.9–8 kHz by at least 64 dB', () => {
    for (let f = 100; f <= 3400; f += 50) expect(Math.abs(gainDb(f))).toBeLessThanOrEqual(0.25);
    for (let f = 3900; f < 8000; f += 50) expect(gainDb(f)).toBeLessThanOrEqual(-64);
  });

  it('gives the same sum for any split of the stream', () => {
    const signal = Int16Array.from({ length: 3000 }, (_, n) => Math.round(8000 * Math.sin(n * 0.37) + 3000 * Math.sin(n * 2.9)));
    const whole = new TelephoneBandEnergy().sum(signal, 0, signal.length);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 12 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), signal.length];
        const band = new TelephoneBandEnergy();
        let sum = 0;
        for (let i = 0; i + 1 < points.length; i++) sum += band.sum(signal, points[i], points[i + 1]);
        expect(Math.abs(sum - whole)).toBeLessThanOrEqual(whole * 1e-6);
      }),
      { numRuns: 50 },
    );
  });

  it('settles to exactly zero in digital silence (no subnormal state lingers)', () => {
    const band = new TelephoneBandEnergy();
    band.sum(Int16Array.from({ length: 400 }, (_, n) => (n % 7) * 4000 - 12000), 0, 400);
    const zeros = new Int16Array(320);
    let last = Infinity;
    for (let frame = 0; frame < 5000 && last !== 0; frame++) last = band.sum(zeros, 0, zeros.length);
    expect(last).toBe(0);
  });
});
