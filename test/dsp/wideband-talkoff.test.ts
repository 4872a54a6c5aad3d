import { describeTalkOff } from './talkoff-battery.js';

/** Talk-off at 16 kHz: the same speech and limits as at 8 kHz, on the native 16 kHz detector and masker. */
describeTalkOff(16000);
