import { createDtmfDetector } from './detector.js';
import type { DigitEvent } from './types.js';

/** Runs a fresh detector over a whole signal in frames of `frame` samples and returns its digit events (offline uses: scan, evidence, tests). */
export function detect(samples: Int16Array, frame = 160): DigitEvent[] {
  const events: DigitEvent[] = [];
  const detector = createDtmfDetector({ digitEnd: (event) => events.push(event) });
  for (let at = 0; at < samples.length; at += frame) detector.process(samples.subarray(at, at + frame));
  detector.flush();
  return events;
}

export const digitsOf = (events: DigitEvent[]): string => events.map((e) => e.digit).join('');
