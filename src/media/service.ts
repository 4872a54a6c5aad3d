import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../audit/logger.js';
import type { Metrics } from '../audit/metrics.js';
import type { CaptureService } from '../capture/types.js';
import type { Config } from '../config/index.js';
import type { CallRegistry } from '../state/calls.js';
import type { KeyringPort } from '../vault/types.js';
import { CallBridge } from './bridge.js';
import { MaskingObserver } from './masking-observer.js';
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
}

export type AttachResult = { input: LegInput; leg: LegRole } | { reason: MediaRejectReason };

/** Pairs each call's caller and agent streams into one bridge, and ends them together. */
export interface MediaService {
  /** A stream has started; its `leg` and `session` parameters say which call and side it is. */
  attach(start: StreamStart, output: LegOutput): AttachResult;
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
  const bySession = new Map<string, CallBridge>();
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

  const attachCaller = (start: StreamStart, session: string, output: LegOutput): AttachResult => {
    const call = deps.calls.get(start.callSid);
    if (!call || call.sessionId !== session || call.state === 'ended') return { reason: 'unknown_session' };
    if (bySession.has(session)) return { reason: 'duplicate_start' };
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
        bySession.delete(session);
        recordingsClosing.add(recordingClosed);
        void recordingClosed.then(() => recordingsClosing.delete(recordingClosed));
        deps.metrics.activeCalls.dec();
        deps.calls.update(call.callSid, { state: 'ended', endedAt: new Date().toISOString(), masking: masking.view() });
        logger.info({ callSid: call.callSid, reason }, 'call ended');
      },
    });
    bySession.set(session, bridge);
    deps.metrics.activeCalls.inc();
    logger.info({ callSid: call.callSid }, 'caller stream started');
    return { input: bridge.attachCaller(output), leg: 'caller' };
  };

  const attachAgent = (start: StreamStart, session: string, output: LegOutput): AttachResult => {
    const bridge = bySession.get(session);
    if (!bridge) return { reason: 'unknown_session' };
    if (bridge.hasAgent) return { reason: 'duplicate_start' };
    deps.calls.update(bridge.callSid, { agentCallSid: start.callSid, agentId: start.parameters.agent, state: 'bridged' });
    logger.info({ callSid: bridge.callSid, agentCallSid: start.callSid }, 'agent stream joined');
    return { input: bridge.attachAgent(output), leg: 'agent' };
  };

  return {
    attach(start, output) {
      const { leg, session } = start.parameters;
      if (!session) return { reason: 'unknown_session' };
      if (leg === 'caller') return attachCaller(start, session, output);
      if (leg === 'agent') return attachAgent(start, session, output);
      return { reason: 'unknown_session' };
    },
    endCall(callSid, reason) {
      const call = deps.calls.findByAnyLeg(callSid);
      if (!call) return;
      const bridge = bySession.get(call.sessionId);
      if (bridge) bridge.end(reason);
      else {
        deps.captures.endCall(call.callSid, reason);
        if (call.state !== 'ended') deps.calls.update(call.callSid, { state: 'ended', endedAt: new Date().toISOString() });
      }
    },
    get activeCalls() {
      return bySession.size;
    },
    async closeAll() {
      for (const bridge of [...bySession.values()]) bridge.end('shutdown');
      await Promise.all(recordingsClosing);
    },
  };
}
