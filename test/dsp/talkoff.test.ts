import { describeTalkOff } from './talkoff-battery.js';

describeTalkOff(8000);
