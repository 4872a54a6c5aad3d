import { describeMaskingBattery } from './masking-battery.js';

/** The masking battery at 16 kHz: the same cases as at 8 kHz, judged natively and after sox brings the output to 8 kHz. */
describeMaskingBattery(16000);
