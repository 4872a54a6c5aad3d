/** The DSP module's public contract. Pure: no I/O, no timers, no allocation per frame. */

export type DtmfDigit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '*' | '#' | 'A' | 'B' | 'C' | 'D';
export type AudioEncoding = 'pcmu' | 'pcma' | 'l16';
/** The rates the DSP runs at natively: narrowband telephony, and wideband (16 kHz L16 streams). */
export type SampleRate = 8000 | 16000;

/** Sample indices count from the first sample the detector or masker was fed (0-based, input time, at its rate). */
export interface DigitEvent {
  digit: DtmfDigit;
  startSample: number;
  endSample: number;
}

export interface DigitListener {
  /** The digit decision (full Q.24 rules) has been made; `startSample` is the estimated tone onset. */
  digitStart?(digit: DtmfDigit, startSample: number): void;
  /** The digit has ended (a valid pause followed it, or flush()). */
  digitEnd?(event: DigitEvent): void;
}

export interface DtmfDetector {
  /** Feed any number of samples (linear 16-bit at the detector's rate). */
  process(samples: Int16Array): void;
  /** Ends a digit still sounding at end of input, reporting it through digitEnd. */
  flush(): void;
  readonly samplesSeen: number;
}

export type MaskFill = 'comfort-noise' | 'silence' | 'beep';

export interface ToneMaskerOptions {
  /** Default 8000. At 16000 every figure (lookahead, fades, rules) keeps its length in ms. */
  sampleRate?: SampleRate;
  /** Fixed delay of the output, 0–20 ms, default 20. */
  lookaheadMs?: number;
  /** What replaces masked audio. `beep` plays one uniform neutral beep (not at DTMF frequencies) per keypress. */
  fill?: MaskFill;
}

export interface ToneMaskerStats {
  /** Output samples replaced by fill. */
  maskedSamples: number;
  /** Digits decided by the embedded detector. */
  digits: number;
}

export interface ToneMasker {
  readonly lookaheadSamples: number;
  /**
   * `output` receives exactly `input.length` samples: the input delayed by `lookaheadSamples`,
   * with every DTMF tone replaced from its first sample. `input` and `output` may not alias.
   * Returns true when `output` is exactly the input of `lookaheadSamples` before, not one sample
   * replaced or blended (nor any from before the stream began): the caller may then forward that
   * earlier input as it arrived.
   */
  process(input: Int16Array, output: Int16Array): boolean;
  /** While on, every output sample is fill (policy `mask: "all"`). */
  setMaskAll(on: boolean): void;
  readonly stats: ToneMaskerStats;
}
