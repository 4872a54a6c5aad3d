import { decodeL16 } from '../../dsp/index.js';
import type { InboundMediaEvent, ParsedMediaMessage, StreamStart } from '../../media/types.js';
import type { MediaWire, WireEncoder, WireSession } from '../media-socket.js';
import { clearCommand, frameBytes, notifyCommand, VonageInbound, VonageOutbound } from './wire.js';

/** Largest accepted frame in samples (200 ms at 16 kHz): the decode buffer is made once per socket. */
const MAX_SAMPLES = 3200;

/** One Vonage socket on the seam: audio decoded into one reused buffer (a frame allocates nothing). */
class VonageSession implements WireSession {
  private readonly inbound = new VonageInbound();
  private readonly samples = new Int16Array(MAX_SAMPLES);
  private readonly audioEvent: Extract<InboundMediaEvent, { kind: 'audio' }> = { kind: 'audio', samples: this.samples };
  private readonly audioResult: ParsedMediaMessage = { ok: true, event: this.audioEvent };

  parse(data: Buffer, isBinary: boolean): ParsedMediaMessage {
    const parsed = this.inbound.parse(data, isBinary);
    if (!parsed.ok) return parsed;
    const event = parsed.event;
    switch (event.kind) {
      case 'audio': {
        const n = event.bytes.length >> 1;
        if (this.audioEvent.samples.length !== n) this.audioEvent.samples = this.samples.subarray(0, n);
        decodeL16(event.bytes, this.audioEvent.samples);
        return this.audioResult;
      }
      case 'start': {
        const { legCallId, streamId, sampleRate, parameters } = event.start;
        return { ok: true, event: { kind: 'start', start: { legCallId, streamId, format: { encoding: 'l16', sampleRate }, parameters } } };
      }
      case 'dtmf':
        return { ok: true, event };
      default:
        return { ok: true, event: { kind: 'mark', name: event.name ?? 'cleared' } };
    }
  }

  encoder(start: StreamStart): WireEncoder {
    const rate = start.format.sampleRate;
    const outbound = new VonageOutbound(rate);
    return {
      binary: true,
      frameMessageBytes: frameBytes(rate),
      audio: (samples) => outbound.audio(samples),
      // Text commands: the runner sends strings as text frames.
      mark: (name) => notifyCommand(name),
      clear: () => clearCommand(),
      release: () => outbound.release(),
    };
  }
}

/** Vonage websockets: a text `websocket:connected` start, binary L16 frames, `websocket:dtmf`. */
export const vonageWire: MediaWire = { session: () => new VonageSession() };
