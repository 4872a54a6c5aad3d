import { beforeAll, describe, expect, it } from 'vitest';
import { createToneMasker, type SampleRate } from '../../src/dsp/index.js';
import { detect } from './detect.js';
import { speech } from './tools.js';

/**
 * Talk-off: minutes of espeak-ng speech in several voices, languages and pitches must yield no
 * digit, and the masker may mute under 0.1% of it. Generated once per file, at the rate given:
 * talkoff.test.ts runs it at 8 kHz, wideband-talkoff.test.ts at 16 kHz (espeak-ng speaks at
 * 22.05 kHz, so the 16 kHz speech carries its 4–8 kHz content too).
 */

const TEXT = [
  'Thank you for calling the customer service line. My name is Alex and I will be helping you today.',
  'Before we continue, could you please confirm the first line of your address and your postcode?',
  'I can see the order from last Tuesday; it was dispatched on the fourth and should arrive within three to five working days.',
  'Would you like to pay the remaining balance now? I will transfer you to our secure payment system, and you can type the',
  'number on your keypad. I will not hear or see the digits, only the last four numbers once the payment has been taken.',
  'Oh, I see, the line is a bit noisy where you are. Could you repeat that, please? Was it seven, eight or nine o clock?',
  'Lovely. Everything is in order. Is there anything else I can help you with today? Wonderful, have a great afternoon.',
  'The quick brown fox jumps over the lazy dog while five wizards box quickly and jovial zebras hum melodies in the evening.',
  'Hello, hello? Are you still there? Mmm, yes, okay, I understand. Right, so the reference number is A B C, one two three.',
].join(' ');

const VOICES: { voice: string; pitch: number }[] = [
  { voice: 'en-us', pitch: 50 },
  { voice: 'en-gb', pitch: 35 },
  { voice: 'en-us+f3', pitch: 70 },
  { voice: 'fr', pitch: 50 },
  { voice: 'de', pitch: 60 },
  { voice: 'es', pitch: 80 },
  { voice: 'en-gb+f2', pitch: 90 },
  { voice: 'it', pitch: 20 },
];

export function describeTalkOff(sampleRate: SampleRate): void {
  describe(`talk-off on espeak-ng speech${sampleRate === 8000 ? '' : ` at ${sampleRate / 1000} kHz`}`, () => {
    let clips: { voice: string; samples: Int16Array }[] = [];
    const frame = sampleRate / 50;

    beforeAll(() => {
      clips = VOICES.map(({ voice, pitch }) => ({ voice, samples: speech(voice, TEXT, pitch, sampleRate) }));
    });

    it('covers several minutes of speech', () => {
      const minutes = clips.reduce((n, c) => n + c.samples.length, 0) / sampleRate / 60;
      expect(minutes).toBeGreaterThan(5);
    });

    it('detects no digit in any voice', () => {
      for (const { samples } of clips) expect(detect(samples, undefined, sampleRate)).toEqual([]);
    });

    it('masks under 0.1% of the speech and decides no digit', () => {
      let total = 0;
      let masked = 0;
      for (const { samples } of clips) {
        const masker = createToneMasker({ sampleRate });
        const out = new Int16Array(samples.length);
        for (let at = 0; at < samples.length; at += frame) masker.process(samples.subarray(at, at + frame), out.subarray(at, at + frame));
        expect(masker.stats.digits).toBe(0);
        total += samples.length;
        masked += masker.stats.maskedSamples;
      }
      expect(masked / total).toBeLessThan(0.001);
    });
  });
}
