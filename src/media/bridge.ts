import type { Logger } from '../audit/logger.js';
import type { Metrics } from '../audit/metrics.js';
import type { CaptureService, KeySource, Keypress } from '../capture/types.js';
import type { Config } from '../config/index.js';
import { createToneMasker, NeutralBeep, Ringback, type DtmfDigit, type ToneMasker } from '../dsp/index.js';
import { KeypressMerger } from './keypress-merger.js';
import type { ForwardedAudioObserver } from './masking-observer.js';
import type { StereoRecorder } from './recorder.js';
import type { LegInput, LegOutput } from './types.js';

const SAMPLES_PER_MS = 8;
const RINGBACK_FRAME_MS = 20;
const RINGBACK_FRAME = new Int16Array(RINGBACK_FRAME_MS * SAMPLES_PER_MS);
/** A stalled timer never bursts more than this many catch-up frames. */
const MAX_CATCH_UP_FRAMES = 5;
/** Frames above this size are split (they are refused earlier; this bounds the preallocated buffer). */
const MAX_FRAME_SAMPLES = 1600;
const KEYPAD = new Set<DtmfDigit>(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#']);

export interface BridgeDeps {
  callSid: string;
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
  readonly callSid: string;
  private caller?: LegOutput;
  private agent?: LegOutput;
  private readonly masker: ToneMasker;
  private readonly masked = new Int16Array(MAX_FRAME_SAMPLES);
  /** `masked` cut to the current frame length, remade only when the length changes. */
  private maskedView = this.masked;
  private readonly merger = new KeypressMerger();
  private readonly callerBeep = new NeutralBeep();
  private readonly agentBeep = new NeutralBeep();
  private readonly ringback = new Ringback();
  private ringTimer?: NodeJS.Timeout;
  private callerSamples = 0;
  private ended = false;

  constructor(private readonly deps: BridgeDeps) {
    this.callSid = deps.callSid;
    this.masker = createToneMasker(
      { lookaheadMs: deps.config.dsp.lookaheadMs, fill: deps.config.dsp.fill },
      { digitStart: (digit, startSample) => this.inbandDigit(digit, startSample) },
    );
  }

  get hasAgent(): boolean {
    return this.agent !== undefined;
  }

  /** The caller's stream has started: play ringback until the agent's stream joins. */
  attachCaller(output: LegOutput): LegInput {
    this.caller = output;
    this.startRingback();
    return {
      audio: (samples) => this.callerAudio(samples),
      dtmf: (key) => this.deliverKey(key, this.callerSamples / SAMPLES_PER_MS, 'event'),
      ended: () => this.end('caller_hangup'),
    };
  }

  attachAgent(output: LegOutput): LegInput {
    this.agent = output;
    this.stopRingback();
    this.caller?.clear();
    return {
      audio: (samples) => this.agentAudio(samples),
      dtmf: () => undefined,
      ended: () => this.end('agent_hangup'),
    };
  }

  /** Ends the call: cancels any live capture, closes both streams and the recording. Idempotent. */
  end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.stopRingback();
    this.deps.captures.endCall(this.callSid, reason);
    this.caller?.close(1000, reason);
    this.agent?.close(1000, reason);
    const recordingClosed = (this.deps.recorder?.close() ?? Promise.resolve()).catch((err: unknown) => {
      this.deps.logger.error({ err, callSid: this.callSid }, 'recording could not be completed');
    });
    this.deps.onEnded(reason, recordingClosed);
  }

  private callerAudio(samples: Int16Array): void {
    if (samples.length <= MAX_FRAME_SAMPLES) return this.callerBlock(samples);
    for (let offset = 0; offset < samples.length; offset += MAX_FRAME_SAMPLES) {
      this.callerBlock(samples.subarray(offset, Math.min(samples.length, offset + MAX_FRAME_SAMPLES)));
    }
  }

  private callerBlock(samples: Int16Array): void {
    const session = this.deps.captures.activeForCall(this.callSid);
    const policy = session?.maskPolicy() ?? null;
    this.masker.setMaskAll(policy === 'all');
    const stats = this.masker.stats;
    const maskedBefore = stats.maskedSamples;
    const digitsBefore = stats.digits;
    if (this.maskedView.length !== samples.length) this.maskedView = this.masked.subarray(0, samples.length);
    const out = this.maskedView;
    this.masker.process(samples, out);
    const maskedNow = stats.maskedSamples - maskedBefore;
    if (maskedNow > 0) {
      this.deps.metrics.maskedMs.inc(maskedNow / SAMPLES_PER_MS);
      // Tone energy being masked before a digit is decided: a keypress is under way.
      if (policy === 'tones' && stats.digits === digitsBefore) session?.noteActivity(this.callerSamples / SAMPLES_PER_MS);
    }
    if (this.agentBeep.sounding) mixBeep(out, this.agentBeep);
    this.callerSamples += samples.length;
    this.deps.recorder?.writeCaller(out);
    this.deps.observer?.forwarded(out, maskedNow);
    this.agent?.sendAudio(out);
  }

  private agentAudio(samples: Int16Array): void {
    this.deps.recorder?.writeAgent(samples);
    if (this.callerBeep.sounding) mixBeep(samples, this.callerBeep);
    this.caller?.sendAudio(samples);
  }

  private inbandDigit(digit: DtmfDigit, startSample: number): void {
    if (KEYPAD.has(digit)) this.deliverKey(digit as Keypress, startSample / SAMPLES_PER_MS, 'inband');
  }

  private deliverKey(key: Keypress, atMs: number, source: KeySource): void {
    if (!this.merger.accept(key, atMs, source)) return;
    this.deps.observer?.keypress();
    const session = this.deps.captures.activeForCall(this.callSid);
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
        this.ringback.fill(RINGBACK_FRAME);
        this.caller?.sendAudio(RINGBACK_FRAME);
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
