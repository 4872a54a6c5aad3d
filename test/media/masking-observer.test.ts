import { describe, expect, it } from 'vitest';
import type { MaskingView } from '../../src/agent/contract.js';
import { generateTone } from '../../src/dsp/index.js';
import { PowerSpectrum } from '../../src/dsp/power-spectrum.js';
import { FLOOR_DB, levelByte, MaskingObserver } from '../../src/media/masking-observer.js';

const FRAME = 160;

function play(observer: MaskingObserver, audio: Int16Array, maskedPerFrame = 0): void {
  for (let i = 0; i < audio.length; i += FRAME) observer.forwarded(audio.subarray(i, i + FRAME), maskedPerFrame);
}

function column(view: MaskingView, c: number): number[] {
  const { bins, levels } = view.spectrogram!;
  return Array.from(Buffer.from(levels, 'base64').subarray(c * bins, (c + 1) * bins));
}

describe('PowerSpectrum', () => {
  it('puts a sine in its bin at the full-scale reference, and little elsewhere', () => {
    const spectrum = new PowerSpectrum(128);
    const sine = Float64Array.from({ length: 128 }, (_, i) => 32767 * Math.sin((2 * Math.PI * 16 * i) / 128));
    const power = new Float64Array(64);
    spectrum.accumulate(sine, 0, power);
    expect(10 * Math.log10(power[16] / spectrum.fullScalePower(32767))).toBeCloseTo(0, 1);
    expect(Math.max(...power.filter((_, k) => Math.abs(k - 16) > 1)) / power[16]).toBeLessThan(1e-9);
    expect(() => new PowerSpectrum(100)).toThrow(RangeError);
  });
});

describe('MaskingObserver', () => {
  it('one column per 100 ms of forwarded audio, with a 1 kHz tone in bin 16 and silence at the floor', () => {
    const observer = new MaskingObserver();
    const tone = new Int16Array(8000);
    generateTone(tone, [1000], -10);
    play(observer, tone);
    play(observer, new Int16Array(8000));
    const view = observer.view();
    expect(view).toMatchObject({ maskedMs: 0, keypresses: 0, audioMs: 2000 });
    expect(view.spectrogram).toMatchObject({ bins: 64, binHz: 62.5, columnMs: 100, firstColumn: 0, floorDb: FLOOR_DB });
    expect(Buffer.from(view.spectrogram!.masked, 'base64')).toHaveLength(20);
    const toneColumn = column(view, 5);
    expect(toneColumn.indexOf(Math.max(...toneColumn))).toBe(16);
    // -10 dBm0 is about 13 dB below a full-scale sine.
    expect(toneColumn[16] + FLOOR_DB).toBeGreaterThan(-16);
    expect(toneColumn[16] + FLOOR_DB).toBeLessThan(-10);
    expect(Math.max(...column(view, 15))).toBe(0);
  });

  it('counts masked time and keypresses, and marks the masked share of each column', () => {
    const observer = new MaskingObserver();
    play(observer, new Int16Array(800));
    play(observer, new Int16Array(800), FRAME / 2);
    observer.keypress();
    observer.keypress();
    const view = observer.view();
    expect(view.maskedMs).toBe(50);
    expect(view.keypresses).toBe(2);
    expect(Array.from(Buffer.from(view.spectrogram!.masked, 'base64'))).toEqual([0, 50]);
  });

  it('publishes the figures (no spectrogram) every second of audio, and keeps the newest minute of columns', () => {
    const published: MaskingView[] = [];
    const observer = new MaskingObserver((figures) => published.push(figures));
    play(observer, new Int16Array(8000 * 65));
    expect(published).toHaveLength(65);
    expect(published[64]).toEqual({ maskedMs: 0, keypresses: 0, audioMs: 65_000 });
    const spectrogram = observer.view().spectrogram!;
    expect(spectrogram.firstColumn).toBe(50);
    expect(Buffer.from(spectrogram.levels, 'base64')).toHaveLength(600 * 64);
  });
});

describe('MaskingObserver at 16 kHz', () => {
  it('gives the same view as at 8 kHz: 64 bins of 62.5 Hz below 4 kHz, 100 ms columns, times in ms', () => {
    const observer = new MaskingObserver(undefined, 16000);
    const tones = new Int16Array(16000);
    generateTone(tones, [1000, 6000], -10, 0, 16000);
    for (let i = 0; i < tones.length; i += 320) observer.forwarded(tones.subarray(i, i + 320), i < 1600 ? 160 : 0);
    const view = observer.view();
    expect(view).toMatchObject({ maskedMs: 50, audioMs: 1000 });
    expect(view.spectrogram).toMatchObject({ bins: 64, binHz: 62.5, columnMs: 100, firstColumn: 0 });
    expect(Array.from(Buffer.from(view.spectrogram!.masked, 'base64'))).toEqual([50, ...new Array(9).fill(0)]);
    const toneColumn = column(view, 5);
    // The 1 kHz tone at the same level as at 8 kHz; the 6 kHz one lies outside the view.
    expect(toneColumn.indexOf(Math.max(...toneColumn))).toBe(16);
    expect(toneColumn[16] + FLOOR_DB).toBeGreaterThan(-16);
    expect(toneColumn[16] + FLOOR_DB).toBeLessThan(-10);
  });
});

describe('levelByte', () => {
  it('gives the level of 10·log10(power / reference) to within the rounding of a half-dB boundary, and 0 for silence', () => {
    const reference = new PowerSpectrum(128).fullScalePower(32767) * 2;
    const exact = (power: number) => Math.max(0, Math.min(255, Math.round(10 * Math.log10(power / reference + 1e-30) - FLOOR_DB)));
    let differing = 0;
    for (let i = 0; i < 100_000; i++) {
      // Powers from 30 dB below the floor to 30 dB above full scale.
      const power = reference * 10 ** ((-150 + 180 * ((i * 0.618034) % 1)) / 10);
      const level = levelByte(power, Math.log2(reference));
      const db = 10 * Math.log10(power / reference) - FLOOR_DB;
      expect(Math.abs(level - exact(power))).toBeLessThanOrEqual(1);
      if (level !== exact(power)) {
        differing++;
        expect(Math.abs(db - Math.round(db) - 0.5 * Math.sign(db - Math.round(db)))).toBeLessThan(0.003);
      }
    }
    expect(differing).toBeLessThan(1000);
    expect(levelByte(0, Math.log2(reference))).toBe(0);
    expect(levelByte(Number.MIN_VALUE, Math.log2(reference))).toBe(0);
  });
});
