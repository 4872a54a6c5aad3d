import { createDtmfDetector } from './detector.js';
import type { DigitEvent, SampleRate } from './types.js';

/**
 * Runs a fresh detector over a whole signal in frames of `frame` samples and returns its digit
 * events (offline uses: scan, evidence, tests). Frames default to 20 ms at the rate.
 */
export function detect(samples: Int16Array, frame?: number, sampleRate: SampleRate = 8000): DigitEvent[] {
  const step = frame ?? sampleRate / 50;
  const events: DigitEvent[] = [];
  const detector = createDtmfDetector({ digitEnd: (event) => events.push(event) }, { sampleRate });
  for (let at = 0; at < samples.length; at += step) detector.process(samples.subarray(at, at + step));
  detector.flush();
  return events;
}

export const digitsOf = (events: DigitEvent[]): string => events.map((e) => e.digit).join('');
