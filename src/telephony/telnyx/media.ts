import type { Metrics } from '../../audit/metrics.js';
import { decode } from '../../dsp/index.js';
import type { ParsedMediaMessage, StreamStart } from '../../media/types.js';
import type { MediaWire, WireEncoder, WireSession } from '../media-socket.js';
import type { ReorderCounts } from './reorder.js';
import type { TelnyxSettings } from './settings.js';
import { TelnyxInbound, TelnyxOutbound, type TelnyxEvent } from './wire.js';

const HELD: ParsedMediaMessage = { ok: true, event: { kind: 'held' } };

/** Bytes of one 20 ms outbound message (base64 of 160 μ-law bytes plus the JSON around it), for the queue bound. */
const NARROWBAND_MESSAGE_BYTES = 300;

/** One Telnyx socket on the seam: parsed and reordered by `TelnyxInbound`, audio decoded to samples. */
class TelnyxSession implements WireSession {
  private readonly inbound: TelnyxInbound;
  private encoding: StreamStart['format']['encoding'] = 'pcmu';
  private readonly reported: ReorderCounts = { reordered: 0, duplicate: 0, late: 0, missing: 0 };
  /** Results of the last message not yet handed to the runner. */
  private due: ParsedMediaMessage[] = [];

  constructor(
    private readonly settings: Pick<TelnyxSettings, 'reorderWindowFrames' | 'l16ByteOrder'>,
    private readonly counters: Record<keyof ReorderCounts, { inc(n?: number): void }>,
  ) {
    this.inbound = new TelnyxInbound(settings.reorderWindowFrames, settings.l16ByteOrder);
  }

  parse(data: Buffer, isBinary: boolean): ParsedMediaMessage {
    if (isBinary) return { ok: false, reason: 'invalid_message' };
    const parsed = this.inbound.accept(data.toString('utf8'));
    this.report();
    this.due = parsed.refusals.map((reason): ParsedMediaMessage => ({ ok: false, reason }));
    for (const event of parsed.events) {
      const neutral = this.neutral(event);
      if (neutral) this.due.push(neutral);
    }
    return this.due.shift() ?? HELD;
  }

  next(): ParsedMediaMessage | undefined {
    return this.due.shift();
  }

  encoder(start: StreamStart): WireEncoder {
    this.encoding = start.format.encoding;
    const outbound = new TelnyxOutbound(start.streamId, start.format, this.settings.l16ByteOrder);
    const wide = start.format.encoding === 'l16';
    return {
      binary: false,
      frameMessageBytes: NARROWBAND_MESSAGE_BYTES * (wide ? 4 : 1),
      audio: (samples) => (samples.length <= start.format.sampleRate / 5 ? outbound.media(samples) : undefined),
      mark: (name) => outbound.mark(name),
      clear: () => outbound.clear(),
      // Messages are strings: the socket never shares a buffer with the next one.
      release: () => undefined,
    };
  }

  private neutral(event: TelnyxEvent): ParsedMediaMessage | undefined {
    switch (event.kind) {
      case 'start':
        return { ok: true, event: { kind: 'start', start: { legCallId: event.start.legCallId, streamId: event.start.streamId, format: event.start.format, parameters: event.start.parameters } } };
      case 'audio': {
        // Reordering can release several frames at once: each gets its own samples.
        const samples = new Int16Array(this.encoding === 'l16' ? event.bytes.length >> 1 : event.bytes.length);
        decode(this.encoding, event.bytes, samples);
        return { ok: true, event: { kind: 'audio', samples } };
      }
      case 'dtmf':
      case 'mark':
      case 'stop':
      case 'connected':
        return { ok: true, event };
      case 'error':
        // Telnyx's `error` frames are informational; the stream goes on or Telnyx stops it.
        return undefined;
    }
  }

  /** Adds what the reorder window did since the last message to the counters. */
  private report(): void {
    const counts = this.inbound.reorderCounts;
    for (const key of Object.keys(this.reported) as (keyof ReorderCounts)[]) {
      const delta = counts[key] - this.reported[key];
      if (delta > 0) this.counters[key].inc(delta);
      this.reported[key] = counts[key];
    }
  }
}

/** Telnyx media streams: JSON text frames, base64 RTP payloads (PCMU/PCMA 8 kHz, L16), reordered by sequence number. */
export function telnyxWire(settings: Pick<TelnyxSettings, 'reorderWindowFrames' | 'l16ByteOrder'>, metrics: Metrics): MediaWire {
  const counters = {
    reordered: metrics.framesReordered.labels('reordered'),
    duplicate: metrics.framesReordered.labels('duplicate'),
    late: metrics.framesReordered.labels('late'),
    missing: metrics.framesReordered.labels('missing'),
  };
  return { session: () => new TelnyxSession(settings, counters) };
}
