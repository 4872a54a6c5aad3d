export * from '../../src/dsp/leak-meter.js';
