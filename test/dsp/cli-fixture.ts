import { expect } from 'vitest';
import type { SampleRate } from '../../src/dsp/index.js';
import { concat, digitTone, silence, toInt16 } from './signals.js';

/** What `toneguard dsp detect|mask` print, and the audio both CLI tests feed them: '4' at 40–100 ms, '2' from 160 ms. */

export interface DetectResult {
  digits: string;
  events: { digit: string; startMs: number; endMs: number }[];
}
export interface MaskResult extends DetectResult {
  lookaheadMs: number;
  maskedMs: number;
}

export function keyedAudio(sampleRate: SampleRate = 8000): Int16Array {
  const shape = { sampleRate };
  return toInt16(concat(silence(40, sampleRate), digitTone('4', 60, shape), silence(60, sampleRate), digitTone('2', 50, { ...shape, phase: 1 }), silence(100, sampleRate)));
}

/** The events of `keyedAudio`, in ms at any rate. */
export function expectKeyedEvents(json: DetectResult): void {
  expect(json.digits).toBe('42');
  expect(json.events[0]).toEqual({ digit: '4', startMs: 40, endMs: 100 });
  expect(json.events[1]).toMatchObject({ digit: '2', startMs: 160 });
}
