import type { RawData, WebSocket } from 'ws';
import type { Logger } from '../audit/logger.js';
import type { FrameCount, Metrics } from '../audit/metrics.js';
import { createMessageRateLimiter } from '../http/ws.js';
import type { EncodedAudio, LegInput, LegOutput, LegRole, MediaRejectReason, ParsedMediaMessage, StreamStart } from '../media/types.js';

/** A stream that keeps sending garbage is closed after this many refused messages. */
const MAX_REJECTS = 200;
/** Outbound frame options, made once, not per frame. */
const TEXT_FRAME = { binary: false, compress: false, fin: true } as const;
const BINARY_FRAME = { binary: true, compress: false, fin: true } as const;

/** How one provider writes outbound messages on one started stream. */
export interface WireEncoder {
  /** Outbound messages go as binary frames (L16 providers) or text. */
  readonly binary: boolean;
  /** Bytes of one 20 ms outbound audio message: turns `maxQueuedFrames` into a `bufferedAmount` bound. */
  readonly frameMessageBytes: number;
  /**
   * The message carrying these samples (at the stream's rate), or undefined when it cannot be
   * sent (too long). May reuse one buffer. A wire that carries codec bytes sends `encoded` (the
   * same audio) as it is when it is in the stream's encoding.
   */
  audio(samples: Int16Array, encoded?: EncodedAudio): Buffer | string | undefined;
  /**
   * The same message as `audio` gives, as one whole WebSocket frame (header and all) built in
   * place, where the encoder can: the runner writes it to the connection as it is, one buffer
   * in one write instead of the socket library's header and payload in two.
   */
  frame?(samples: Int16Array, encoded?: EncodedAudio): Buffer | undefined;
  /** The provider's mark/checkpoint message, or undefined when it has none. */
  mark(name: string): Buffer | string | undefined;
  /** The provider's "empty your playback buffer" message, or undefined when it has none. */
  clear(): Buffer | string | undefined;
  /** The socket still holds the last audio message (it could not write it at once): the next one must not reuse its buffer. */
  release(): void;
}

/** One socket's inbound side of a provider's media format. */
export interface WireSession {
  /**
   * One inbound message as a normalised event, or a reason to refuse it. Audio before an accepted
   * start is refused with `media_before_start`. Never throws; never echoes the payload. A wire that
   * reorders frames (Telnyx) answers `held` while it keeps a message back. The result, and the
   * buffers it points into, last until the next `parse` of any session of the same wire: the
   * runner hands each on before it reads another message, so a wire's sessions may share them.
   */
  parse(data: Buffer, isBinary: boolean): ParsedMediaMessage;
  /** Further results the last message released (a reorder window emptying), one per call until none: the runner drains it after each `parse`. */
  next?(): ParsedMediaMessage | undefined;
  /** The outbound side, once the stream's start was accepted. */
  encoder(start: StreamStart): WireEncoder;
}

/** A provider's media wire format. */
export interface MediaWire {
  /** Per-socket state (decode buffers, the stream id once started). */
  session(): WireSession;
}

export interface StreamSettings {
  maxQueuedFrames: number;
  maxMessagesPerSecond: number;
  /** A socket that has not started its stream by then is closed (an idle socket costs a slot). */
  startTimeoutMs: number;
}

/** Where a started stream goes: the media service pairs it with its call, or refuses it. */
type Attached = { input: LegInput; leg: LegRole } | { reason: MediaRejectReason };

/**
 * The upgraded connection under a media WebSocket: whole frames an encoder built are written to
 * it directly. Safe beside the socket library's own writes because those are never queued (no
 * compression, no streamed data): every write reaches the connection in the order it was made.
 */
export interface FrameConnection {
  write(frame: Buffer): boolean;
}

/** Asynchronous only while a shared store checks the credential (cluster mode): messages meanwhile are dropped. */
export type StreamAttach = (start: StreamStart, output: LegOutput) => Attached | Promise<Attached>;

/**
 * Runs one media WebSocket in any provider's format: the wire parses each message once, the
 * runner bounds the message rate, the refused messages and what it queues towards the platform,
 * closes a socket that never starts, and hands the started stream to the media service. Errors on
 * this stream stay on this stream.
 */
export function runMediaSocket(ws: WebSocket, wire: MediaWire, attach: StreamAttach, settings: StreamSettings, logger: Logger, metrics: Metrics, connection?: FrameConnection): void {
  const session = wire.session();
  const limiter = createMessageRateLimiter(settings.maxMessagesPerSecond);
  const warned = new Set<MediaRejectReason>();
  let rejects = 0;
  // Made at `start`, once the stream is known.
  let encoder: WireEncoder | undefined;
  /** Set at `start` when the encoder builds whole frames and the connection is at hand. */
  let framed = false;
  let frameOptions: typeof TEXT_FRAME | typeof BINARY_FRAME = TEXT_FRAME;
  let maxBuffered = 0;
  let input: LegInput | undefined;
  /** A start whose credential a shared store is still checking. */
  let starting = false;
  let ended = false;
  let log = logger;
  // Labelled once the leg is known (at `start`); nothing is sent or counted before.
  let framesIn: FrameCount | undefined;
  let framesOut: FrameCount | undefined;
  let dropped: FrameCount | undefined;

  // Control messages given as text go as text frames even where audio goes binary (Vonage's `{"action":"clear"}`).
  const send = (message: Buffer | string | undefined) => {
    if (message !== undefined && ws.readyState === ws.OPEN) ws.send(message, typeof message === 'string' ? TEXT_FRAME : frameOptions);
  };

  const output: LegOutput = {
    sendAudio(samples, encoded) {
      const writable = encoder !== undefined && ws.readyState === ws.OPEN && ws.bufferedAmount <= maxBuffered;
      const message = !writable ? undefined : framed ? encoder!.frame!(samples, encoded) : encoder!.audio(samples, encoded);
      if (message === undefined) {
        dropped?.inc();
        return false;
      }
      if (framed) connection!.write(message as Buffer);
      else ws.send(message, frameOptions);
      // Written at once, the socket keeps no reference to the buffer; queued, it does, so the next frame gets its own.
      if (ws.bufferedAmount > 0) encoder!.release();
      framesOut?.inc();
      return true;
    },
    sendMark(name) {
      send(encoder?.mark(name));
    },
    clear() {
      send(encoder?.clear());
    },
    close(code, reason) {
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, reason);
    },
  };

  /**
   * Each message is parsed and handed on as it comes, done with before the next is read (on any
   * socket), so a wire's sessions can share their decode buffers. Holding a turn's messages to read
   * them together at its end measured no cheaper in `bench:media` and raised the p99: every frame
   * waited for all of the turn's reads.
   */
  const read = (data: Buffer, isBinary: boolean) => {
    if (ended || starting) return;
    const parsed = session.parse(data, isBinary);
    handle(parsed);
    for (let more = session.next?.(); more && !ended; more = session.next?.()) handle(more);
  };
  const fail = (err: unknown) => {
    log.error({ err }, 'media message could not be handled');
    output.close(1011, 'internal_error');
    end();
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

  const started = (start: StreamStart) => {
    if (input || starting) return reject('duplicate_start', true);
    encoder = session.encoder(start);
    frameOptions = encoder.binary ? BINARY_FRAME : TEXT_FRAME;
    framed = connection !== undefined && encoder.frame !== undefined && !encoder.binary;
    maxBuffered = settings.maxQueuedFrames * encoder.frameMessageBytes;
    const attached = attach(start, output);
    if (!(attached instanceof Promise)) return admitted(start, attached);
    starting = true;
    void attached.then(
      (settled) => {
        starting = false;
        admitted(start, settled);
      },
      (err: unknown) => {
        starting = false;
        log.error({ err }, 'media stream start failed');
        output.close(1011, 'start_failed');
        end();
      },
    );
  };

  const admitted = (start: StreamStart, attached: Attached) => {
    if ('reason' in attached) return reject(attached.reason, true);
    input = attached.input;
    // The socket closed while the credential was checked: the leg ends at once.
    if (ended) return input.ended();
    clearTimeout(startTimer);
    log = logger.child({ callId: start.legCallId, leg: attached.leg });
    framesIn = metrics.framesIn.labels(attached.leg);
    framesOut = metrics.framesOut.labels(attached.leg);
    dropped = metrics.framesDropped.labels(attached.leg, 'slow_consumer');
  };

  const startTimer = setTimeout(() => {
    if (!input) reject('start_timeout', true);
  }, settings.startTimeoutMs);

  const handle = (parsed: ParsedMediaMessage) => {
    if (!parsed.ok) return reject(parsed.reason);
    const event = parsed.event;
    switch (event.kind) {
      case 'audio':
        if (!input) return reject('media_before_start');
        framesIn?.inc();
        return input.audio(event.samples, event.encoded);
      case 'start':
        return started(event.start);
      case 'dtmf':
        if (!input) return reject('media_before_start');
        return input.dtmf(event.key);
      case 'stop':
        output.close(1000, 'stopped');
        return end();
      default:
        return;
    }
  };

  ws.on('message', (data: RawData, isBinary: boolean) => {
    if (ended) return;
    if (!limiter.allow()) return reject('rate_limited', true);
    const message = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    try {
      read(message, isBinary);
    } catch (err) {
      // One stream's failure stays on that stream.
      fail(err);
    }
  });
  ws.on('close', end);
  ws.on('error', (err) => {
    log.warn({ err }, 'media socket error');
    end();
  });
}
