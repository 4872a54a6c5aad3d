import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createToneMasker, type DtmfDigit } from '../../src/dsp/index.js';
import { detect, digitsOf } from './detect.js';
import { judged } from './judges.js';
import { leaks, passedTones } from './leak.js';
import { concat, digitTone, silence, toInt16, type KeySpan } from './signals.js';

/** Properties of the 16 kHz detector and masker over wide inputs: any keyed run within Q.24's accept figures, any framing. */

const RATE = 16000;
const DIGITS: DtmfDigit[] = ['1', '2', '3', 'A', '4', '5', '6', 'B', '7', '8', '9', 'C', '*', '0', '#', 'D'];

const keypress = fc.record({
  digit: fc.constantFrom(...DIGITS),
  toneMs: fc.double({ min: 40, max: 120, noNaN: true }),
  gapMs: fc.double({ min: 40, max: 120, noNaN: true }),
  levelDbm0: fc.double({ min: -25, max: -3, noNaN: true }),
  deviation: fc.double({ min: -0.015, max: 0.015, noNaN: true }),
  twistDb: fc.double({ min: -8, max: 4, noNaN: true }),
  phase: fc.double({ min: 0, max: 2 * Math.PI, noNaN: true }),
});
const run = fc.record({ leadMs: fc.double({ min: 5, max: 30, noNaN: true }), keys: fc.array(keypress, { minLength: 1, maxLength: 5 }) });
type RunShape = typeof run extends fc.Arbitrary<infer T> ? T : never;

/** The keyed run at `sampleRate`, with its spans. */
function keyed({ leadMs, keys }: RunShape, sampleRate: 8000 | 16000 = RATE): { samples: Int16Array; spans: KeySpan[] } {
  const parts = [silence(leadMs, sampleRate)];
  const spans: KeySpan[] = [];
  let at = parts[0].length;
  for (const { digit, toneMs, gapMs, ...shape } of keys) {
    const tone = digitTone(digit, toneMs, { ...shape, sampleRate });
    spans.push({ digit, start: at, end: at + tone.length });
    const gap = silence(gapMs, sampleRate);
    parts.push(tone, gap);
    at += tone.length + gap.length;
  }
  parts.push(silence(100, sampleRate));
  return { samples: toInt16(concat(...parts)), spans };
}

function mask(input: Int16Array, frames: number[] = [RATE / 50]) {
  const masker = createToneMasker({ fill: 'silence', sampleRate: RATE });
  const output = new Int16Array(input.length);
  for (let at = 0, k = 0; at < input.length; k++) {
    const end = Math.min(input.length, at + frames[k % frames.length]);
    masker.process(input.subarray(at, end), output.subarray(at, end));
    at = end;
  }
  return { output, masker };
}

describe('16 kHz detector and masker properties', () => {
  it('detects every keyed run exactly, within 2 ms of the 8 kHz detector on the same run keyed at 8 kHz', () => {
    fc.assert(
      fc.property(run, (r) => {
        const wide = detect(keyed(r).samples, undefined, RATE);
        const narrow = detect(keyed(r, 8000).samples);
        expect(digitsOf(wide)).toBe(r.keys.map((k) => k.digit).join(''));
        expect(digitsOf(narrow)).toBe(digitsOf(wide));
        wide.forEach((e, i) => {
          expect(Math.abs(e.startSample / 16 - narrow[i].startSample / 8)).toBeLessThanOrEqual(2);
          expect(Math.abs(e.endSample / 16 - narrow[i].endSample / 8)).toBeLessThanOrEqual(2);
        });
      }),
      { numRuns: 60 },
    );
  });

  it('masks every keyed run with at most 1 ms of leak per digit, whatever the framing, identically for every framing', () => {
    fc.assert(
      fc.property(run, fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 6 }), (r, frames) => {
        const { samples, spans } = keyed(r);
        const reference = mask(samples);
        const framed = mask(samples, frames);
        expect(framed.output).toEqual(reference.output);
        expect(framed.masker.stats).toEqual(reference.masker.stats);
        expect(Math.max(...leaks(passedTones(samples, samples, framed.output, framed.masker.lookaheadSamples), spans, RATE))).toBeLessThanOrEqual(1);
        expect(framed.masker.stats.digits).toBe(r.keys.length);
      }),
      { numRuns: 40 },
    );
  });

  it('leaves nothing multimon-ng, spandsp or the 8 kHz receiver decodes after sox, for any keyed run', () => {
    fc.assert(
      fc.property(run, (r) => {
        expect(judged(mask(keyed(r).samples).output, RATE)).toEqual({ multimon: '', spandsp: '', receiver: '' });
      }),
      { numRuns: 10 },
    );
  });
});
