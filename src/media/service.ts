import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../audit/logger.js';
import type { Metrics } from '../audit/metrics.js';
import type { CaptureService } from '../capture/types.js';
import type { Config } from '../config/index.js';
import type { CallRecord, CallRegistry } from '../state/calls.js';
import type { KeyringPort } from '../vault/types.js';
import { bridgeRunsAt, CallBridge } from './bridge.js';
import { MaskingObserver } from './masking-observer.js';
import type { RedeemResult, StreamCredentials } from './stream-credentials.js';
import { EncryptedRecordingWriter } from './recording-format.js';
import { StereoRecorder } from './recorder.js';
import { NARROWBAND_PCMU, type LegInput, type LegOutput, type LegRole, type MediaRejectReason, type StreamFormat, type StreamStart } from './types.js';

export interface MediaServiceDeps {
  config: Pick<Config, 'dsp' | 'media' | 'recording' | 'dataDir'>;
  calls: CallRegistry;
  captures: CaptureService;
  keyring: KeyringPort;
  metrics: Metrics;
  logger: Logger;
  /** Issued into each leg's stream instruction; every stream start must redeem one. */
  credentials: StreamCredentials;
}

export type AttachResult = { input: LegInput; leg: LegRole } | { reason: MediaRejectReason };

/** Pairs each call's caller and agent streams into one bridge, and ends them together. */
export interface MediaService {
  /**
   * A stream has started. Its `credential` parameter must admit the `leg` (and `agent`) it claims
   * for the call id it reports; the caller leg then opens the call's bridge, the agent leg joins it.
   * Asynchronous only when spent credentials are shared (cluster mode).
   */
  attach(start: StreamStart, output: LegOutput): AttachResult | Promise<AttachResult>;
  /**
   * A leg of a call whose media path was authenticated out of band (the SIP relay, driven over
   * its allow-listed ng socket): no stream credential. The call must already be registered; the
   * caller leg opens its bridge (at `format`, PCMU 8 kHz unless told), the agent leg joins it.
   */
  attachTrusted(callId: string, leg: LegRole, output: LegOutput, format?: StreamFormat): AttachResult;
  /** Ends the call's bridge (a hang-up reported by the platform): `id` is the neutral call id or either leg's platform call id. */
  endCall(id: string, reason: string): void;
  readonly activeCalls: number;
  /** Ends every bridge (shutdown) and waits for their recordings to be written. */
  closeAll(): Promise<void>;
}

export function recordingsDir(config: Pick<Config, 'recording' | 'dataDir'>): string {
  return config.recording.dir ?? join(config.dataDir, 'recordings');
}

export function createMediaService(deps: MediaServiceDeps): MediaService {
  const byCall = new Map<string, CallBridge>();
  const recordingsClosing = new Set<Promise<void>>();
  const logger = deps.logger.child({ module: 'media' });

  /** A G.711 call is recorded in its own codec (what was heard, in half the bytes), any other as 16-bit PCM at its rate. */
  const openRecorder = (callId: string, { sampleRate, encoding }: StreamFormat): StereoRecorder | undefined => {
    if (!deps.config.recording.enabled) return undefined;
    try {
      const dir = recordingsDir(deps.config);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const id = `${callId}-${Date.now()}`;
      const stored = sampleRate === 8000 ? encoding : 'l16';
      return new StereoRecorder(new EncryptedRecordingWriter(join(dir, `${id}.tgrec`), id, deps.keyring, sampleRate, stored), sampleRate, stored);
    } catch (err) {
      logger.error({ err, callId }, 'recording could not start; the call goes on unrecorded');
      return undefined;
    }
  };

  const attachCaller = (call: CallRecord | undefined, format: StreamFormat, output: LegOutput): AttachResult => {
    if (!call || call.state === 'ended') return { reason: 'unknown_call' };
    if (byCall.has(call.callSid)) return { reason: 'duplicate_start' };
    if (!bridgeRunsAt(format)) return { reason: 'unsupported_format' };
    const callId = call.callSid;
    const masking = new MaskingObserver((view) => deps.calls.update(callId, { masking: view }), format.sampleRate);
    const bridge = new CallBridge({
      callId,
      format,
      config: deps.config,
      captures: deps.captures,
      metrics: deps.metrics,
      logger,
      recorder: openRecorder(callId, format),
      observer: masking,
      onEnded: (reason, recordingClosed) => {
        byCall.delete(callId);
        recordingsClosing.add(recordingClosed);
        void recordingClosed.then(() => recordingsClosing.delete(recordingClosed));
        deps.metrics.activeCalls.dec();
        deps.calls.update(callId, { state: 'ended', endedAt: new Date().toISOString(), masking: masking.view() });
        logger.info({ callId, reason }, 'call ended');
      },
    });
    byCall.set(callId, bridge);
    deps.metrics.activeCalls.inc();
    logger.info({ callId }, 'caller stream started');
    const input = bridge.attachCaller(output);
    const waiting = awaitingCaller.get(callId);
    awaitingCaller.delete(callId);
    for (const ready of waiting ?? []) ready();
    return { input, leg: 'caller' };
  };

  /** Agent legs that reconnected here before their caller leg did, by call id. */
  const awaitingCaller = new Map<string, (() => void)[]>();

  /** Resolves once the call's caller leg opens its bridge here, or with `unknown_call` after the start timeout. */
  const afterCaller = (callId: string, join: () => AttachResult): Promise<AttachResult> =>
    new Promise((resolve) => {
      const waiters = awaitingCaller.get(callId) ?? [];
      awaitingCaller.set(callId, waiters);
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(ready), 1);
        if (waiters.length === 0) awaitingCaller.delete(callId);
        resolve({ reason: 'unknown_call' });
      }, deps.config.media.startTimeoutMs);
      const ready = () => {
        clearTimeout(timer);
        resolve(join());
      };
      waiters.push(ready);
    });

  /**
   * Only the agent call Toneguard itself placed for this call may join it. After a failover both
   * legs reconnect to the new node in either order: a resuming agent leg waits for its caller leg.
   */
  const attachAgent = (start: StreamStart, agentId: string | undefined, output: LegOutput): AttachResult | Promise<AttachResult> => {
    const call = deps.calls.findByAnyLeg(start.legCallId);
    const placed = call && call.agentProviderCallId === start.legCallId ? call : undefined;
    const bridge = placed ? byCall.get(placed.callSid) : undefined;
    if (!bridge && placed && placed.state !== 'ended' && start.parameters.resume === '1') {
      return afterCaller(placed.callSid, () => {
        const opened = byCall.get(placed.callSid);
        return opened ? joinAgent(opened, { agentId, state: 'bridged' }, start.format, output) : { reason: 'unknown_call' };
      });
    }
    if (!bridge) return { reason: 'unknown_call' };
    logger.info({ callId: bridge.callId }, 'agent stream joined');
    return joinAgent(bridge, { agentId, state: 'bridged' }, start.format, output);
  };

  const joinAgent = (bridge: CallBridge, patch: Partial<CallRecord>, format: StreamFormat, output: LegOutput): AttachResult => {
    if (bridge.hasAgent) return { reason: 'duplicate_start' };
    // The bridge relays samples as they are: both legs must run at one rate.
    if (format.sampleRate !== bridge.format.sampleRate) return { reason: 'unsupported_format' };
    deps.calls.update(bridge.callId, patch);
    return { input: bridge.attachAgent(output), leg: 'agent' };
  };

  /** The caller leg's stream reports the platform's id of the caller's call (the neutral id itself, as the call flow registers it). */
  const callerCall = (legCallId: string): CallRecord | undefined => {
    const call = deps.calls.findByAnyLeg(legCallId);
    return call && (call.callSid === legCallId || call.providerCallId === legCallId) ? call : undefined;
  };

  const resumeCapture = (legCallId: string) => {
    const call = callerCall(legCallId);
    if (!call || !deps.captures.resume) return;
    deps.captures.resume(call.callSid).catch((err: unknown) => {
      logger.error({ callId: call.callSid, errorType: err instanceof Error ? err.name : typeof err }, 'capture could not resume');
    });
  };

  return {
    attach(start, output) {
      const { leg, agent, credential } = start.parameters;
      if (leg !== 'caller' && leg !== 'agent') return { reason: 'credential_invalid' };
      const agentId = leg === 'agent' ? agent : undefined;
      const admit = (redeemed: RedeemResult): AttachResult | Promise<AttachResult> => {
        if (!redeemed.ok) return { reason: redeemed.reason };
        if (leg === 'agent') return attachAgent(start, agentId, output);
        const attached = attachCaller(callerCall(start.legCallId), start.format, output);
        // A leg reconnected here after its node was lost: the call's capture, if any, resumes from its checkpoint.
        if (!('reason' in attached) && start.parameters.resume === '1') resumeCapture(start.legCallId);
        return attached;
      };
      const redeemed = deps.credentials.redeem({ leg, legCallId: start.legCallId, agentId }, credential);
      return redeemed instanceof Promise ? redeemed.then(admit) : admit(redeemed);
    },
    attachTrusted(callId, leg, output, format = NARROWBAND_PCMU) {
      if (leg === 'caller') return attachCaller(deps.calls.get(callId), format, output);
      const bridge = byCall.get(callId);
      return bridge ? joinAgent(bridge, { state: 'bridged' }, format, output) : { reason: 'unknown_call' };
    },
    endCall(id, reason) {
      const call = deps.calls.findByAnyLeg(id);
      if (!call) return;
      const bridge = byCall.get(call.callSid);
      if (bridge) bridge.end(reason);
      else {
        deps.captures.endCall(call.callSid, reason);
        if (call.state !== 'ended') deps.calls.update(call.callSid, { state: 'ended', endedAt: new Date().toISOString() });
      }
    },
    get activeCalls() {
      return byCall.size;
    },
    async closeAll() {
      for (const bridge of [...byCall.values()]) bridge.end('shutdown');
      await Promise.all(recordingsClosing);
    },
  };
}
