import type { Logger } from '../audit/logger.js';
import type { Metrics } from '../audit/metrics.js';
import type { CaptureService, KeySource, Keypress } from '../capture/types.js';
import type { Config } from '../config/index.js';
import { createToneMasker, NeutralBeep, Ringback, isSampleRate, type DtmfDigit, type SampleRate, type ToneMasker } from '../dsp/index.js';
import { KeypressMerger } from './keypress-merger.js';
import type { ForwardedAudioObserver } from './masking-observer.js';
import type { StereoRecorder } from './recorder.js';
import { NO_MESSAGE, type EncodedAudio, type LegInput, type LegOutput, type StreamFormat } from './types.js';

const RINGBACK_FRAME_MS = 20;
/** A stalled timer never bursts more than this many catch-up frames. */
const MAX_CATCH_UP_FRAMES = 5;
/** Frames above this length are split (they are refused earlier; this bounds the preallocated buffer). */
const MAX_FRAME_MS = 200;
const KEYPAD = new Set<DtmfDigit>(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#']);

/** The DSP runs natively at 8 and 16 kHz: a stream at any other rate is refused with `unsupported_format`. */
export function bridgeRunsAt(format: StreamFormat): boolean {
  return isSampleRate(format.sampleRate);
}

interface BridgeDsp {
  masker: ToneMasker;
  callerBeep: NeutralBeep;
  agentBeep: NeutralBeep;
  ringback: Ringback;
}

/** Every rate-dependent DSP piece of a bridge, made in one place. */
function createBridgeDsp(config: Pick<Config, 'dsp'>, sampleRate: SampleRate, digitStart: (digit: DtmfDigit, startSample: number) => void): BridgeDsp {
  return {
    masker: createToneMasker({ lookaheadMs: config.dsp.lookaheadMs, fill: config.dsp.fill, sampleRate }, { digitStart }),
    callerBeep: new NeutralBeep(sampleRate),
    agentBeep: new NeutralBeep(sampleRate),
    ringback: new Ringback(sampleRate),
  };
}

export interface BridgeDeps {
  /** The neutral call id. */
  callId: string;
  /** The caller stream's format: the bridge runs at its sample rate. */
  format: StreamFormat;
  config: Pick<Config, 'dsp' | 'media'>;
  captures: CaptureService;
  metrics: Metrics;
  logger: Logger;
  recorder?: StereoRecorder;
  /** Watches what the agent is sent (the masked stream) for the desktop's masking panel. */
  observer?: ForwardedAudioObserver;
  /** Called once when the bridge has ended (either leg hung up, or the call was ended); `recordingClosed` settles once the recording is on disk. */
  onEnded: (reason: string, recordingClosed: Promise<void>) => void;
}

/**
 * One in-line call: the caller's audio goes through the tone masker (and, during a capture,
 * into the capture session) before the agent hears it; the agent's audio goes back unchanged.
 * The per-frame path allocates nothing.
 */
export class CallBridge {
  readonly callId: string;
  readonly format: StreamFormat;
  private caller?: LegOutput;
  private agent?: LegOutput;
  private readonly samplesPerMs: number;
  private readonly maxFrameSamples: number;
  private readonly masker: ToneMasker;
  private readonly masked: Int16Array;
  /** `masked` cut to the current frame length, remade only when the length changes. */
  private maskedView: Int16Array;
  private readonly ringbackFrame: Int16Array;
  /**
   * The caller's last frame as it arrived, held for one frame: when the lookahead is one frame
   * and the masker leaves a frame untouched, what the agent is sent is exactly that frame, so its
   * bytes go on as they came instead of being encoded again (the text they came in is kept by
   * holding the message). `heldSamples` is 0 when none is held.
   */
  private readonly heldBytes: Uint8Array;
  private readonly held: { -readonly [K in keyof EncodedAudio]: EncodedAudio[K] } = { encoding: 'pcmu', bytes: new Uint8Array(0), message: NO_MESSAGE, base64Start: 0, base64End: 0 };
  private heldSamples = 0;
  private readonly merger = new KeypressMerger();
  private readonly callerBeep: NeutralBeep;
  private readonly agentBeep: NeutralBeep;
  private readonly ringback: Ringback;
  private ringTimer?: NodeJS.Timeout;
  private callerSamples = 0;
  private ended = false;

  constructor(private readonly deps: BridgeDeps) {
    this.callId = deps.callId;
    this.format = deps.format;
    this.samplesPerMs = deps.format.sampleRate / 1000;
    this.maxFrameSamples = MAX_FRAME_MS * this.samplesPerMs;
    this.masked = new Int16Array(this.maxFrameSamples);
    this.maskedView = this.masked;
    this.ringbackFrame = new Int16Array(RINGBACK_FRAME_MS * this.samplesPerMs);
    this.heldBytes = new Uint8Array(this.maxFrameSamples * 2);
    const dsp = createBridgeDsp(deps.config, deps.format.sampleRate, (digit, startSample) => this.inbandDigit(digit, startSample));
    this.masker = dsp.masker;
    this.callerBeep = dsp.callerBeep;
    this.agentBeep = dsp.agentBeep;
    this.ringback = dsp.ringback;
  }

  get hasAgent(): boolean {
    return this.agent !== undefined;
  }

  /** The caller's stream has started: play ringback until the agent's stream joins. */
  attachCaller(output: LegOutput): LegInput {
    this.caller = output;
    this.startRingback();
    return {
      audio: (samples, encoded) => this.callerAudio(samples, encoded),
      dtmf: (key) => this.deliverKey(key, this.callerSamples / this.samplesPerMs, 'event'),
      ended: () => this.end('caller_hangup'),
    };
  }

  attachAgent(output: LegOutput): LegInput {
    this.agent = output;
    this.stopRingback();
    this.caller?.clear();
    return {
      audio: (samples, encoded) => this.agentAudio(samples, encoded),
      dtmf: () => undefined,
      ended: () => this.end('agent_hangup'),
    };
  }

  /** Ends the call: cancels any live capture, closes both streams and the recording. Idempotent. */
  end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.stopRingback();
    this.deps.captures.endCall(this.callId, reason);
    this.caller?.close(1000, reason);
    this.agent?.close(1000, reason);
    const recordingClosed = (this.deps.recorder?.close() ?? Promise.resolve()).catch((err: unknown) => {
      this.deps.logger.error({ err, callId: this.callId }, 'recording could not be completed');
    });
    this.deps.onEnded(reason, recordingClosed);
  }

  private callerAudio(samples: Int16Array, encoded: EncodedAudio | undefined): void {
    const max = this.maxFrameSamples;
    if (samples.length <= max) return this.callerBlock(samples, encoded);
    for (let offset = 0; offset < samples.length; offset += max) {
      this.callerBlock(samples.subarray(offset, Math.min(samples.length, offset + max)), undefined);
    }
  }

  private callerBlock(samples: Int16Array, encoded: EncodedAudio | undefined): void {
    const session = this.deps.captures.activeForCall(this.callId);
    const policy = session?.maskPolicy() ?? null;
    this.masker.setMaskAll(policy === 'all');
    const stats = this.masker.stats;
    const maskedBefore = stats.maskedSamples;
    const digitsBefore = stats.digits;
    if (this.maskedView.length !== samples.length) this.maskedView = this.masked.subarray(0, samples.length);
    const out = this.maskedView;
    const unaltered = this.masker.process(samples, out);
    const maskedNow = stats.maskedSamples - maskedBefore;
    if (maskedNow > 0) {
      this.deps.metrics.maskedMs.inc(maskedNow / this.samplesPerMs);
      // Tone energy being masked before a digit is decided: a keypress is under way.
      if (policy === 'tones' && stats.digits === digitsBefore) session?.noteActivity(this.callerSamples / this.samplesPerMs);
    }
    const beeping = this.agentBeep.sounding;
    if (beeping) mixBeep(out, this.agentBeep);
    this.callerSamples += samples.length;
    const asArrived = unaltered && !beeping && this.heldSamples === samples.length && this.masker.lookaheadSamples === samples.length;
    const sent = asArrived ? this.held : undefined;
    this.deps.recorder?.writeCaller(out, sent);
    this.deps.observer?.forwarded(out, maskedNow);
    this.agent?.sendAudio(out, sent);
    this.hold(encoded, samples.length);
  }

  /** Keeps a copy of the frame's bytes as they arrived, and its message (or forgets the last one, when the wire carried none). */
  private hold(encoded: EncodedAudio | undefined, samples: number): void {
    const held = this.held;
    if (!encoded || encoded.bytes.length > this.heldBytes.length) {
      this.heldSamples = 0;
      held.message = NO_MESSAGE;
      return;
    }
    const n = encoded.bytes.length;
    if (held.bytes.length !== n) held.bytes = this.heldBytes.subarray(0, n);
    held.bytes.set(encoded.bytes);
    held.message = encoded.message;
    held.base64Start = encoded.base64Start;
    held.base64End = encoded.base64End;
    held.encoding = encoded.encoding;
    this.heldSamples = samples;
  }

  private agentAudio(samples: Int16Array, encoded: EncodedAudio | undefined): void {
    this.deps.recorder?.writeAgent(samples, encoded);
    if (!this.callerBeep.sounding) return void this.caller?.sendAudio(samples, encoded);
    mixBeep(samples, this.callerBeep);
    this.caller?.sendAudio(samples);
  }

  private inbandDigit(digit: DtmfDigit, startSample: number): void {
    if (KEYPAD.has(digit)) this.deliverKey(digit as Keypress, startSample / this.samplesPerMs, 'inband');
  }

  private deliverKey(key: Keypress, atMs: number, source: KeySource): void {
    if (!this.merger.accept(key, atMs, source)) return;
    this.deps.observer?.keypress();
    const session = this.deps.captures.activeForCall(this.callId);
    if (!session || session.maskPolicy() === null) return;
    session.press(key, atMs, source);
    this.deps.metrics.digitsCaptured.labels(source).inc();
    const feedback = this.deps.config.media.feedback;
    if (feedback !== 'none') this.callerBeep.restart();
    if (feedback === 'both') this.agentBeep.restart();
  }

  private startRingback(): void {
    const startedAt = performance.now();
    let sent = 0;
    this.ringTimer = setInterval(() => {
      const due = Math.floor((performance.now() - startedAt) / RINGBACK_FRAME_MS) - sent;
      for (let i = 0; i < Math.min(due, MAX_CATCH_UP_FRAMES); i++) {
        this.ringback.fill(this.ringbackFrame);
        this.caller?.sendAudio(this.ringbackFrame);
      }
      sent += due;
    }, RINGBACK_FRAME_MS);
  }

  private stopRingback(): void {
    clearInterval(this.ringTimer);
    this.ringTimer = undefined;
  }
}

/** Adds the feedback beep over the frame (keeps the line audible underneath). */
function mixBeep(frame: Int16Array, beep: NeutralBeep): void {
  for (let i = 0; i < frame.length && beep.sounding; i++) {
    const v = frame[i] + beep.next();
    frame[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
}
