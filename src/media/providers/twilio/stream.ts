import type { WebSocket, RawData } from 'ws';
import type { Logger } from '../../../audit/logger.js';
import type { FrameCount, Metrics } from '../../../audit/metrics.js';
import { decodeMulaw, encodeMulaw } from '../../../dsp/index.js';
import { createMessageRateLimiter } from '../../../http/ws.js';
import type { LegInput, LegOutput, LegRole, MediaRejectReason, StreamStart } from '../../types.js';
import { MediaMessageWriter, NOT_FAST, readMediaFrame } from './media-frame.js';
import { parseTwilioMessage, twilioClearMessage, twilioMarkMessage } from './messages.js';

/** Largest accepted frame: 200 ms of μ-law (Twilio sends about 20 ms). */
export const MAX_FRAME_BYTES = 1600;
/** Bytes of one 20 ms outbound media message, to turn `maxQueuedFrames` into a `bufferedAmount` bound. */
const FRAME_MESSAGE_BYTES = 300;
/** A stream that keeps sending garbage is closed after this many refused messages. */
const MAX_REJECTS = 200;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** Outbound text frames: the options object is made once, not per frame. */
const TEXT_FRAME = { binary: false, compress: false, fin: true } as const;

/** Why a media payload (base64 of μ-law) is refused, or null: the checks a payload passes before it is decoded. */
export function payloadRefusal(payload: string): 'frame_size' | 'bad_payload' | null {
  const size = (payload.length * 3) / 4 - (payload.endsWith('==') ? 2 : payload.endsWith('=') ? 1 : 0);
  if (size < 1 || size > MAX_FRAME_BYTES) return 'frame_size';
  if (payload.length % 4 !== 0 || !BASE64.test(payload)) return 'bad_payload';
  return null;
}

export interface StreamSettings {
  maxQueuedFrames: number;
  maxMessagesPerSecond: number;
  /** A socket that has not started its stream by then is closed (an idle socket costs a slot). */
  startTimeoutMs: number;
}

/** Where a started stream goes: the media service pairs it with its call, or refuses it. */
export type StreamAttach = (start: StreamStart, output: LegOutput) => { input: LegInput; leg: LegRole } | { reason: MediaRejectReason };

/** Views of the first `length` elements of a fixed buffer, remade only when the length changes (frames are nearly always 20 ms). */
class FrameViews<T extends Uint8Array | Int16Array> {
  private view: T;
  constructor(private readonly whole: T) {
    this.view = whole;
  }

  of(length: number): T {
    if (this.view.length !== length) this.view = this.whole.subarray(0, length) as T;
    return this.view;
  }
}

/**
 * Runs one Twilio Media Streams WebSocket: parses each message once (a plain `media` frame
 * straight from its bytes, anything else through the schema), decodes audio into buffers owned
 * by the stream, and bounds what it queues towards Twilio. Errors on this stream stay on this stream.
 */
export function runTwilioStream(ws: WebSocket, attach: StreamAttach, settings: StreamSettings, logger: Logger, metrics: Metrics): void {
  const inBytes = new Uint8Array(MAX_FRAME_BYTES);
  const inBuffer = Buffer.from(inBytes.buffer, inBytes.byteOffset, inBytes.byteLength);
  const inSamples = new Int16Array(MAX_FRAME_BYTES);
  const inByteViews = new FrameViews(inBytes);
  const inSampleViews = new FrameViews(inSamples);
  const outBytes = new Uint8Array(MAX_FRAME_BYTES);
  const outByteViews = new FrameViews(outBytes);
  // Made at `start`, once the stream id is known.
  let writer: MediaMessageWriter | undefined;
  const limiter = createMessageRateLimiter(settings.maxMessagesPerSecond);
  const maxBuffered = settings.maxQueuedFrames * FRAME_MESSAGE_BYTES;
  const warned = new Set<MediaRejectReason>();
  let rejects = 0;
  let streamSid = '';
  let input: LegInput | undefined;
  let ended = false;
  let log = logger;
  // Labelled once the leg is known (at `start`); nothing is sent or counted before.
  let framesIn: FrameCount | undefined;
  let framesOut: FrameCount | undefined;
  let dropped: FrameCount | undefined;

  const output: LegOutput = {
    sendAudio(samples) {
      if (!writer || ws.readyState !== ws.OPEN || ws.bufferedAmount > maxBuffered || samples.length > MAX_FRAME_BYTES) {
        dropped?.inc();
        return false;
      }
      encodeMulaw(samples, outByteViews.of(samples.length));
      ws.send(writer.message(outBytes, samples.length), TEXT_FRAME);
      // Written at once, the socket keeps no reference to the buffer; queued, it does, so the next frame gets its own.
      if (ws.bufferedAmount > 0) writer.detach();
      framesOut?.inc();
      return true;
    },
    sendMark(name) {
      if (ws.readyState === ws.OPEN) ws.send(twilioMarkMessage(streamSid, name));
    },
    clear() {
      if (ws.readyState === ws.OPEN) ws.send(twilioClearMessage(streamSid));
    },
    close(code, reason) {
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, reason);
    },
  };

  const end = () => {
    if (ended) return;
    ended = true;
    clearTimeout(startTimer);
    input?.ended();
  };

  const reject = (reason: MediaRejectReason, close = false) => {
    metrics.malformedMessages.labels(reason).inc();
    if (!warned.has(reason)) {
      warned.add(reason);
      log.warn({ reason }, 'media message refused');
    }
    if (close || ++rejects > MAX_REJECTS) {
      log.warn({ reason }, 'media stream closed');
      output.close(1008, reason);
      end();
    }
  };

  const audio = (payload: string) => {
    if (!input) return reject('media_before_start');
    const refusal = payloadRefusal(payload);
    if (refusal) return reject(refusal);
    deliver(input, inBuffer.write(payload, 'base64'));
  };

  /** The first `n` bytes of `inBytes` are a frame's μ-law audio. */
  const deliver = (to: LegInput, n: number) => {
    const samples = inSampleViews.of(n);
    decodeMulaw(inByteViews.of(n), samples);
    framesIn?.inc();
    to.audio(samples);
  };

  const startTimer = setTimeout(() => {
    if (!input) reject('start_timeout', true);
  }, settings.startTimeoutMs);

  ws.on('message', (data: RawData, isBinary: boolean) => {
    if (ended) return;
    if (!limiter.allow()) return reject('rate_limited', true);
    if (isBinary) return reject('invalid_message');
    if (input && data instanceof Uint8Array) {
      const n = readMediaFrame(data, inBytes);
      if (n !== NOT_FAST) return deliver(input, n);
    }
    const parsed = parseTwilioMessage(data.toString());
    if (!parsed.ok) return reject(parsed.reason);
    const event = parsed.event;
    switch (event.kind) {
      case 'audio':
        return audio(event.payload);
      case 'start': {
        if (input) return reject('duplicate_start', true);
        streamSid = event.start.streamSid;
        writer = new MediaMessageWriter(streamSid, MAX_FRAME_BYTES);
        const attached = attach(event.start, output);
        if ('reason' in attached) return reject(attached.reason, true);
        input = attached.input;
        clearTimeout(startTimer);
        log = logger.child({ callSid: event.start.callSid, leg: attached.leg });
        framesIn = metrics.framesIn.labels(attached.leg);
        framesOut = metrics.framesOut.labels(attached.leg);
        dropped = metrics.framesDropped.labels(attached.leg, 'slow_consumer');
        return;
      }
      case 'dtmf':
        if (!input) return reject('media_before_start');
        return input.dtmf(event.key);
      case 'stop':
        output.close(1000, 'stopped');
        return end();
      default:
        return;
    }
  });
  ws.on('close', end);
  ws.on('error', (err) => {
    log.warn({ err }, 'media socket error');
    end();
  });
}
