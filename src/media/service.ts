import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../audit/logger.js';
import type { Metrics } from '../audit/metrics.js';
import type { CaptureService } from '../capture/types.js';
import type { Config } from '../config/index.js';
import type { CallRecord, CallRegistry } from '../state/calls.js';
import type { KeyringPort } from '../vault/types.js';
import { CallBridge } from './bridge.js';
import { MaskingObserver } from './masking-observer.js';
import type { StreamCredentials } from './stream-credentials.js';
import { EncryptedRecordingWriter } from './recording-format.js';
import { StereoRecorder } from './recorder.js';
import type { LegInput, LegOutput, LegRole, MediaRejectReason, StreamStart } from './types.js';

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
   * for the CallSid it reports; the caller leg then opens the call's bridge, the agent leg joins it.
   */
  attach(start: StreamStart, output: LegOutput): AttachResult;
  /**
   * A leg of a call whose media path was authenticated out of band (the SIP relay, driven over
   * its allow-listed ng socket): no stream credential. The call must already be registered; the
   * caller leg opens its bridge, the agent leg joins it.
   */
  attachTrusted(callSid: string, leg: LegRole, output: LegOutput): AttachResult;
  /** Ends the call's bridge (hang-up reported by a status callback). */
  endCall(callSid: string, reason: string): void;
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

  const openRecorder = (callSid: string): StereoRecorder | undefined => {
    if (!deps.config.recording.enabled) return undefined;
    try {
      const dir = recordingsDir(deps.config);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const id = `${callSid}-${Date.now()}`;
      return new StereoRecorder(new EncryptedRecordingWriter(join(dir, `${id}.tgrec`), id, deps.keyring));
    } catch (err) {
      logger.error({ err, callSid }, 'recording could not start; the call goes on unrecorded');
      return undefined;
    }
  };

  const attachCaller = (callSid: string, output: LegOutput): AttachResult => {
    const call = deps.calls.get(callSid);
    if (!call || call.state === 'ended') return { reason: 'unknown_call' };
    if (byCall.has(call.callSid)) return { reason: 'duplicate_start' };
    const masking = new MaskingObserver((view) => deps.calls.update(call.callSid, { masking: view }));
    const bridge = new CallBridge({
      callSid: call.callSid,
      config: deps.config,
      captures: deps.captures,
      metrics: deps.metrics,
      logger,
      recorder: openRecorder(call.callSid),
      observer: masking,
      onEnded: (reason, recordingClosed) => {
        byCall.delete(call.callSid);
        recordingsClosing.add(recordingClosed);
        void recordingClosed.then(() => recordingsClosing.delete(recordingClosed));
        deps.metrics.activeCalls.dec();
        deps.calls.update(call.callSid, { state: 'ended', endedAt: new Date().toISOString(), masking: masking.view() });
        logger.info({ callSid: call.callSid, reason }, 'call ended');
      },
    });
    byCall.set(call.callSid, bridge);
    deps.metrics.activeCalls.inc();
    logger.info({ callSid: call.callSid }, 'caller stream started');
    return { input: bridge.attachCaller(output), leg: 'caller' };
  };

  /** Only the agent call Toneguard itself placed for this call may join it. */
  const attachAgent = (start: StreamStart, agentId: string | undefined, output: LegOutput): AttachResult => {
    const call = deps.calls.findByAnyLeg(start.callSid);
    const bridge = call && call.agentCallSid === start.callSid ? byCall.get(call.callSid) : undefined;
    if (!bridge) return { reason: 'unknown_call' };
    logger.info({ callSid: bridge.callSid, agentCallSid: start.callSid }, 'agent stream joined');
    return joinAgent(bridge, { agentId, state: 'bridged' }, output);
  };

  const joinAgent = (bridge: CallBridge, patch: Partial<CallRecord>, output: LegOutput): AttachResult => {
    if (bridge.hasAgent) return { reason: 'duplicate_start' };
    deps.calls.update(bridge.callSid, patch);
    return { input: bridge.attachAgent(output), leg: 'agent' };
  };

  return {
    attach(start, output) {
      const { leg, agent, credential } = start.parameters;
      if (leg !== 'caller' && leg !== 'agent') return { reason: 'credential_invalid' };
      const agentId = leg === 'agent' ? agent : undefined;
      const redeemed = deps.credentials.redeem({ leg, legCallSid: start.callSid, agentId }, credential);
      if (!redeemed.ok) return { reason: redeemed.reason };
      return leg === 'caller' ? attachCaller(start.callSid, output) : attachAgent(start, agentId, output);
    },
    attachTrusted(callSid, leg, output) {
      if (leg === 'caller') return attachCaller(callSid, output);
      const bridge = byCall.get(callSid);
      return bridge ? joinAgent(bridge, { state: 'bridged' }, output) : { reason: 'unknown_call' };
    },
    endCall(callSid, reason) {
      const call = deps.calls.findByAnyLeg(callSid);
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
