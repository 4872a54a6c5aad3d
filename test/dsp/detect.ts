export { detect, digitsOf } from '../../src/dsp/detect-events.js';
