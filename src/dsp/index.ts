export type * from './types.js';
export { decodeMulaw, encodeMulaw, decodeAlaw, encodeAlaw } from './g711.js';
export { decodeL16, encodeL16 } from './l16.js';
export { AUDIO_ENCODINGS, isAudioEncoding, bytesPerSample, decode, encode } from './codec.js';
export { SAMPLE_RATE, isSampleRate, dbm0ToPeak, dbm0ToPower, powerToDbm0 } from './levels.js';
export { DTMF_FREQUENCIES, digitFrequencies } from './dtmf-frequencies.js';
export {
  generateTone,
  ComfortNoise,
  NeutralBeep,
  Ringback,
  NEUTRAL_BEEP_HZ,
  NEUTRAL_BEEP_DBM0,
  NEUTRAL_BEEP_MS,
  RINGBACK_HZ,
  RINGBACK_DBM0,
} from './tones.js';
export { createDtmfDetector } from './detector.js';
export { createToneMasker, DEFAULT_LOOKAHEAD_MS, MAX_LOOKAHEAD_MS, type FlushableToneMasker } from './masker.js';
