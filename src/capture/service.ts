import type { AuditSink } from '../audit/types.js';
import { silentLogger, type Logger } from '../audit/logger.js';
import { ToneguardError } from '../errors.js';
import { realClock, type Clock } from './clock.js';
import { ExternalCaptureSession } from './external-session.js';
import { resolveFieldSpec, type CaptureConfig, type FieldSpec } from './fields.js';
import type { CaptureCheckpointPort } from './checkpoint.js';
import { RESUMED_VERSION_GAP, type SessionDeps } from './lifecycle.js';
import { InlineCaptureSession, type InlineSessionDeps, type InlineSessionSettings } from './session.js';
import type {
  CaptureOptions,
  CaptureMode,
  CaptureModeDriver,
  CaptureService,
  CaptureSession,
  CaptureView,
  MaskPolicy,
  StartCaptureRequest,
  Tokenizer,
} from './types.js';

export interface CaptureServiceDeps {
  config: CaptureConfig;
  tokenizer: Tokenizer;
  audit: AuditSink;
  clock?: Clock;
  logger?: Logger;
  /** Cluster mode: in-line captures are checkpointed so that another node can resume them. */
  checkpoints?: CaptureCheckpointPort;
}

/** The failure code of a capture whose node was lost and that could not resume elsewhere. */
export const NODE_LOST = 'node_lost';

/** How long an ended capture stays readable through `get` (the agent fetches the final view). */
export const ENDED_RETENTION_MS = 15 * 60_000;

interface ResolvedField {
  spec: FieldSpec;
  mask: MaskPolicy;
  requireMatching: boolean;
}

function resolveFields(request: StartCaptureRequest, config: CaptureConfig): ResolvedField[] {
  const names = request.fields.map((f) => f.name);
  // Positions, not names: a requested name is untrusted input and may be a card number typed in the wrong place.
  const positions = (pick: (name: string, i: number) => boolean) => names.flatMap((name, i) => (pick(name, i) ? [String(i)] : []));
  const unknown = positions((name) => !resolveFieldSpec(name, config, request.oneTimeCode));
  const duplicated = positions((name, i) => names.indexOf(name) !== i);
  if (names.length === 0 || unknown.length > 0 || duplicated.length > 0) {
    const problems = [
      names.length === 0 ? 'no fields requested' : null,
      unknown.length > 0 ? `unknown at positions ${unknown.join(', ')}` : null,
      duplicated.length > 0 ? `repeated at positions ${duplicated.join(', ')}` : null,
    ].filter(Boolean);
    throw new ToneguardError('invalid_fields', `Invalid capture fields (${problems.join('; ')})`, 422);
  }
  const options = request.options ?? {};
  return request.fields.map((field) => {
    const spec = resolveFieldSpec(field.name, config, request.oneTimeCode) as FieldSpec;
    return {
      spec,
      mask: field.mask ?? options.mask ?? spec.defaultMask,
      requireMatching: field.requireMatching ?? options.requireMatching ?? false,
    };
  });
}

/** Owns the live captures: at most one per call, each announced to every view listener. */
export function createCaptureService(deps: CaptureServiceDeps): CaptureService {
  const clock = deps.clock ?? realClock;
  const logger = (deps.logger ?? silentLogger()).child({ module: 'capture' });
  const sessions = new Map<string, CaptureSession>();
  /**
   * The same sessions by call. The media bridge asks for its call's active capture on every caller
   * frame; ended captures stay readable for 15 minutes, so a scan of every call's would grow with
   * the traffic of the last quarter hour (600 ended captures cost about 2.4 µs a frame).
   */
  const byCall = new Map<string, Set<CaptureSession>>();
  const track = (session: CaptureSession) => {
    sessions.set(session.id, session);
    let ofCall = byCall.get(session.callSid);
    if (!ofCall) byCall.set(session.callSid, (ofCall = new Set()));
    ofCall.add(session);
  };
  const forget = (id: string) => {
    const session = sessions.get(id);
    if (!session) return;
    sessions.delete(id);
    const ofCall = byCall.get(session.callSid);
    ofCall?.delete(session);
    if (ofCall?.size === 0) byCall.delete(session.callSid);
  };
  const sessionsOfCall = (callSid: string): Iterable<CaptureSession> => byCall.get(callSid) ?? [];
  const listeners = new Set<(view: CaptureView) => void>();
  const drivers = new Map<Exclude<CaptureMode, 'inline'>, CaptureModeDriver>();

  const sessionDeps: SessionDeps = {
    audit: deps.audit,
    clock,
    logger,
    onView: (view) => {
      for (const listener of listeners) {
        try {
          listener(view);
        } catch (err) {
          logger.warn({ err, captureId: view.id }, 'capture view listener failed');
        }
      }
    },
    onEnd: (id) => clock.setTimeout(() => forget(id), ENDED_RETENTION_MS),
  };

  const inlineSettings = (fields: ResolvedField[], options: CaptureOptions): InlineSessionSettings => ({
    fields,
    maxAttempts: options.maxAttempts ?? deps.config.maxAttempts,
    firstDigitTimeoutMs: options.firstDigitTimeoutMs ?? deps.config.firstDigitTimeoutMs,
    interDigitTimeoutMs: options.interDigitTimeoutMs ?? deps.config.interDigitTimeoutMs,
    totalTimeoutMs: options.totalTimeoutMs ?? deps.config.totalTimeoutMs,
    ...(options.subjectId ? { subjectId: options.subjectId } : {}),
  });

  /** A one-time code's check is a function of this process: such a capture is never checkpointed, and cannot resume. */
  const checkpointable = (request: StartCaptureRequest) => deps.checkpoints !== undefined && !request.oneTimeCode;

  const inlineDeps = (request: StartCaptureRequest): InlineSessionDeps => {
    const checkpoints = deps.checkpoints;
    if (!checkpoints || !checkpointable(request)) return { ...sessionDeps, tokenizer: deps.tokenizer };
    return {
      ...sessionDeps,
      tokenizer: deps.tokenizer,
      onFieldComplete: (session) => checkpoint(session, request),
      onEnd: (id) => {
        checkpoints.discard(id, request.callSid);
        sessionDeps.onEnd?.(id);
      },
    };
  };

  const checkpoint = (session: InlineCaptureSession, request: StartCaptureRequest) => {
    // Only while fields are taken: a tokenizing session has handed its values to the vault already.
    if (!deps.checkpoints || !checkpointable(request) || session.view().state !== 'active') return;
    deps.checkpoints.save({
      captureId: session.id,
      callSid: session.callSid,
      request: { fields: request.fields, mode: 'inline', options: request.options ?? {}, actor: request.actor },
      view: session.view(),
      completed: session.completedValues(),
    });
  };

  const activeForCall = (callSid: string): CaptureSession | undefined => {
    for (const session of sessionsOfCall(callSid)) if (session.isActive()) return session;
    return undefined;
  };

  return {
    start(request) {
      // A capture must be auditable from its first digit: with a trail that cannot write, none starts.
      if (deps.audit.available?.() === false) {
        throw new ToneguardError('audit_unavailable', 'The audit trail cannot be written; captures are refused until it recovers', 503);
      }
      const mode = request.mode ?? 'inline';
      const driver = mode === 'inline' ? undefined : drivers.get(mode);
      if (mode !== 'inline' && !driver) throw new ToneguardError('unknown_mode', `Capture mode ${mode} is not available`, 400);
      if (driver && request.oneTimeCode) throw new ToneguardError('unknown_mode', 'A one-time code is keyed in-line only', 400);
      const fields = resolveFields(request, deps.config);
      if (activeForCall(request.callSid)) {
        throw new ToneguardError('capture_in_progress', `Call ${request.callSid} already has a capture in progress`, 409);
      }
      const options = request.options ?? {};
      const maxAttempts = options.maxAttempts ?? deps.config.maxAttempts;
      const identity = { callSid: request.callSid, actor: request.actor };
      if (driver) {
        const fieldsForDriver = fields.map((f) => ({ name: f.spec.name, kind: f.spec.kind, mask: f.mask }));
        const session = new ExternalCaptureSession({ ...identity, mode }, fieldsForDriver, maxAttempts, driver, sessionDeps);
        track(session);
        session.start(request);
        return session;
      }
      const session = new InlineCaptureSession(identity, inlineSettings(fields, options), inlineDeps(request));
      track(session);
      session.start();
      checkpoint(session, request);
      return session;
    },
    get: (id) => sessions.get(id),
    activeForCall,
    onView(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    registerMode(mode, driver) {
      drivers.set(mode, driver);
    },
    async resume(callSid) {
      const active = activeForCall(callSid);
      if (active || !deps.checkpoints) return active;
      const saved = await deps.checkpoints.load(callSid);
      if (!saved) return undefined;
      try {
        // Resumed meanwhile (both legs' streams reach this node; either may ask).
        const raced = activeForCall(callSid) ?? sessions.get(saved.captureId);
        if (raced) return raced;
        const { request: savedRequest } = saved;
        const request: StartCaptureRequest = { callSid, fields: savedRequest.fields, mode: 'inline', options: savedRequest.options, actor: savedRequest.actor };
        const fields = resolveFields(request, deps.config);
        const session = new InlineCaptureSession({ id: saved.captureId, callSid, actor: request.actor }, inlineSettings(fields, savedRequest.options), inlineDeps(request));
        track(session);
        session.resume({ completed: saved.completed, view: saved.view });
        checkpoint(session, request);
        return session;
      } finally {
        for (const value of saved.completed.values()) value.fill(0);
      }
    },
    failLost(saved) {
      const now = new Date(clock.now()).toISOString();
      const view: CaptureView = {
        ...saved,
        state: 'failed',
        currentField: null,
        fields: saved.fields.map((field) => (field.state === 'pending' || field.state === 'capturing' ? { ...field, state: 'cancelled' } : field)),
        error: { code: NODE_LOST, message: 'The media node carrying the capture was lost and the call did not resume on another' },
        updatedAt: now,
        version: saved.version + RESUMED_VERSION_GAP,
      };
      deps.audit.record({
        action: 'capture.failed',
        actor: { type: 'system', id: 'failover' },
        outcome: 'failure',
        resource: { type: 'capture', id: saved.id },
        details: { callSid: saved.callSid, mode: saved.mode, code: NODE_LOST },
      });
      logger.info({ captureId: saved.id, code: NODE_LOST }, 'capture failed');
      sessionDeps.onView(view);
    },
    endCall(callSid, reason) {
      for (const session of [...sessionsOfCall(callSid)]) {
        if (session.isActive()) session.cancel(reason, { type: 'telephony', id: callSid });
      }
    },
  };
}
