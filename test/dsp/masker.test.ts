import { describeMaskingBattery } from './masking-battery.js';

describeMaskingBattery(8000);
