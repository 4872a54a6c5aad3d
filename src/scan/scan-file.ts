import { createToneMasker, encode, bytesPerSample, SAMPLE_RATE } from '../dsp/index.js';
import { detect } from '../dsp/detect-events.js';
import { findCards, type CardFinding, type Span } from './findings.js';
import { decodeRecording, type DecodedRecording, type HeaderlessFormat } from './recording.js';
import { resamplerReach } from './filters.js';
import { silentUnits } from './gate.js';
import { channelOf, resampleTo8k } from './resample.js';

/** What the scan reports for one card: times, brand and last four. Never more digits. */
export interface ReportedCard extends Omit<CardFinding, 'sensitiveSpans'> {
  /** 0-based channel of the file (stereo recordings: 0 caller, 1 agent). */
  channel: number;
}

export interface RecordingScan {
  container: 'wav' | 'raw';
  encoding: string;
  sampleRate: number;
  channels: number;
  durationMs: number;
  cards: ReportedCard[];
  /** Present when only part of the file could be read. */
  truncated?: string;
  /** The file with every sensitive run masked, when asked for and something was found. */
  redacted?: Uint8Array;
}

/** Margin around a sensitive run within which the masker's decisions are applied. */
const REDACT_MARGIN_MS = 100;

/** Scans one recording's bytes: every channel through the DTMF detector at 8 kHz, then the card rules. */
export function scanRecording(bytes: Uint8Array, headerless: HeaderlessFormat | undefined, options: { redact: boolean; nowMs: number }): RecordingScan {
  const recording = decodeRecording(bytes, headerless);
  const { channels, sampleRate, samples } = recording;
  const narrow = Array.from({ length: channels }, (_, channel) => {
    const layout = { channels, channel };
    return sampleRate === SAMPLE_RATE ? channelOf(samples, layout) : resampleTo8k(samples, sampleRate, layout, silentUnits(samples, layout, sampleRate));
  });
  const perChannel = narrow.map((samples) => findCards(detect(samples), options.nowMs));
  const cards = perChannel.flatMap((found, channel) => found.map(({ sensitiveSpans: _, ...card }) => ({ ...card, channel })));
  const scan: RecordingScan = {
    container: recording.container,
    encoding: recording.encoding,
    sampleRate: recording.sampleRate,
    channels,
    durationMs: Math.round((recording.frames * 1000) / sampleRate),
    cards,
    ...(recording.truncated ? { truncated: recording.truncated } : {}),
  };
  if (options.redact && cards.length > 0) {
    scan.redacted = redactedCopy(
      bytes,
      recording,
      narrow,
      perChannel.map((found) => found.flatMap((f) => f.sensitiveSpans)),
    );
  }
  return scan;
}

/**
 * Which 8 kHz samples of `samples` the tone masker removes inside `spans` (± margin), as [start, end)
 * intervals. The masker runs over the whole channel, so its state at each span is what the live
 * path would have; only its decisions inside the spans are used.
 */
function maskedIntervals(samples: Int16Array, spans: readonly Span[]): [number, number][] {
  const masker = createToneMasker({ fill: 'silence' });
  const lag = masker.lookaheadSamples;
  const input = new Int16Array(samples.length + lag);
  input.set(samples);
  const output = new Int16Array(input.length);
  masker.process(input, output);
  const intervals: [number, number][] = [];
  const margin = REDACT_MARGIN_MS * (SAMPLE_RATE / 1000);
  for (const span of spans) {
    const from = Math.max(0, span.startMs * (SAMPLE_RATE / 1000) - margin);
    const to = Math.min(samples.length, span.endMs * (SAMPLE_RATE / 1000) + margin);
    let open = -1;
    for (let n = from; n < to; n++) {
      const masked = output[n + lag] !== input[n];
      if (masked && open < 0) open = n;
      if (!masked && open >= 0) {
        intervals.push([open, n]);
        open = -1;
      }
    }
    if (open >= 0) intervals.push([open, to]);
  }
  return intervals;
}

/** A copy of the file with the masked samples silenced in place, at the file's own rate and encoding. */
function redactedCopy(bytes: Uint8Array, recording: DecodedRecording, narrow: Int16Array[], spans: Span[][]): Uint8Array {
  const copy = Uint8Array.from(bytes);
  const width = bytesPerSample(recording.encoding);
  const silence = new Uint8Array(width);
  encode(recording.encoding, new Int16Array(1), silence);
  const { channels: count, frames } = recording;
  const scale = recording.sampleRate / SAMPLE_RATE;
  // A resampled tone's edges spread by the filter's reach: widen each interval by it at the file's rate.
  const reach = resamplerReach(recording.sampleRate);
  narrow.forEach((samples, channel) => {
    for (const [start, end] of maskedIntervals(samples, spans[channel])) {
      const from = Math.max(0, Math.floor(start * scale) - reach);
      const to = Math.min(frames, Math.ceil(end * scale) + reach);
      for (let i = from; i < to; i++) copy.set(silence, recording.dataStart + (i * count + channel) * width);
    }
  });
  return copy;
}
