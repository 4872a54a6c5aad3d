import { DigitTracker } from './digit-tracker.js';
import { DtmfFilterBank } from './filter-bank.js';
import type { DigitListener, DtmfDetector } from './types.js';

/** A streaming Q.24 DTMF receiver for one stream of 8 kHz linear samples. */
export function createDtmfDetector(listener: DigitListener, options: { sampleRate?: 8000 } = {}): DtmfDetector {
  if (options.sampleRate !== undefined && options.sampleRate !== 8000) throw new RangeError('only 8000 Hz is supported');
  const bank = new DtmfFilterBank();
  const tracker = new DigitTracker(bank, listener);
  let seen = 0;
  return {
    process(samples: Int16Array): void {
      let at = 0;
      while (at < samples.length) {
        const blocks = bank.blocks;
        at = bank.feed(samples, at, samples.length);
        if (bank.blocks !== blocks) tracker.onBlock();
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
