import { DigitTracker } from './digit-tracker.js';
import { DtmfFilterBank, STAGE_SAMPLES } from './filter-bank.js';
import { checkSampleRate } from './levels.js';
import type { DigitListener, DtmfDetector, SampleRate } from './types.js';

/** A streaming Q.24 DTMF receiver for one stream of linear samples at 8 kHz (default) or 16 kHz. */
export function createDtmfDetector(listener: DigitListener, options: { sampleRate?: SampleRate } = {}): DtmfDetector {
  const bank = new DtmfFilterBank(checkSampleRate(options.sampleRate));
  const tracker = new DigitTracker(bank, listener);
  let seen = 0;
  return {
    process(samples: Int16Array): void {
      for (let base = 0; base < samples.length; base += STAGE_SAMPLES) {
        const length = Math.min(samples.length - base, STAGE_SAMPLES);
        bank.stage(length === samples.length ? samples : samples.subarray(base, base + length));
        for (let at = 0; at < length; ) {
          const blocks = bank.blocks;
          at = bank.feedStaged(at, length);
          if (bank.blocks !== blocks) tracker.onBlock();
        }
      }
      seen += samples.length;
    },
    flush(): void {
      tracker.flush();
    },
    get samplesSeen(): number {
      return seen;
    },
  };
}
