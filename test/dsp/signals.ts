export * from '../../src/dsp/signals.js';
