import type { AuditSink } from '../audit/types.js';
import { silentLogger, type Logger } from '../audit/logger.js';
import { ToneguardError } from '../errors.js';
import { realClock, type Clock } from './clock.js';
import { ExternalCaptureSession } from './external-session.js';
import { resolveFieldSpec, type CaptureConfig, type FieldSpec } from './fields.js';
import type { SessionDeps } from './lifecycle.js';
import { InlineCaptureSession } from './session.js';
import type {
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
}

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
    onEnd: (id) => clock.setTimeout(() => sessions.delete(id), ENDED_RETENTION_MS),
  };

  const activeForCall = (callSid: string): CaptureSession | undefined => {
    for (const session of sessions.values()) if (session.callSid === callSid && session.isActive()) return session;
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
        sessions.set(session.id, session);
        session.start(request);
        return session;
      }
      const session = new InlineCaptureSession(
        identity,
        {
          fields,
          maxAttempts,
          firstDigitTimeoutMs: options.firstDigitTimeoutMs ?? deps.config.firstDigitTimeoutMs,
          interDigitTimeoutMs: options.interDigitTimeoutMs ?? deps.config.interDigitTimeoutMs,
          totalTimeoutMs: options.totalTimeoutMs ?? deps.config.totalTimeoutMs,
          ...(options.subjectId ? { subjectId: options.subjectId } : {}),
        },
        { ...sessionDeps, tokenizer: deps.tokenizer },
      );
      sessions.set(session.id, session);
      session.start();
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
    endCall(callSid, reason) {
      for (const session of sessions.values()) {
        if (session.callSid === callSid && session.isActive()) session.cancel(reason, { type: 'telephony', id: callSid });
      }
    },
  };
}
