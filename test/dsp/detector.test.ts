import { describeQ24Battery } from './q24-battery.js';

describeQ24Battery(8000);
