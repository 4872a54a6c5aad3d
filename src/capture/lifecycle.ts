import { randomBytes } from 'node:crypto';
import type { Actor, AuditOutcome, AuditSink } from '../audit/types.js';
import type { Logger } from '../audit/logger.js';
import { ToneguardError } from '../errors.js';
import type { Clock } from './clock.js';
import type { CaptureMode, CaptureResult, CaptureState, CaptureView, FieldView } from './types.js';

/** What every session needs from its owner. */
export interface SessionDeps {
  audit: AuditSink;
  clock: Clock;
  logger: Logger;
  /** Receives every view, in order. */
  onView(view: CaptureView): void;
  /** Called once when the session ends (complete, failed or cancelled). */
  onEnd?(sessionId: string): void;
}

/**
 * How far a resumed capture's view version jumps past its checkpoint's: the views sent between
 * the checkpoint and the node's loss (keypresses of the field in progress) were never saved, and a
 * client drops any view not newer than the last it saw. No field takes this many changes.
 */
export const RESUMED_VERSION_GAP = 10_000;

export interface SessionIdentity {
  id?: string;
  callSid: string;
  mode: CaptureMode;
  actor: Actor;
}

export function newCaptureId(): string {
  return `cap_${randomBytes(12).toString('base64url')}`;
}

type AuditDetails = Record<string, string | number | boolean | null>;

/**
 * The part of a capture session every mode shares: its state, the versioned redacted view,
 * the audit events of its lifecycle. Subclasses own the fields and release their secrets in
 * `release()`, which runs before the final view is emitted.
 */
export abstract class SessionLifecycle {
  readonly id: string;
  readonly callSid: string;
  readonly mode: CaptureMode;
  protected readonly actor: Actor;
  protected state: CaptureState = 'active';
  protected currentField: string | null = null;
  private result: CaptureResult | null = null;
  private error: { code: string; message: string } | null = null;
  private version = 0;
  private createdAt: string;
  private updatedAt: string;
  private resumedAt: string | null = null;

  protected constructor(
    identity: SessionIdentity,
    protected readonly deps: SessionDeps,
  ) {
    this.id = identity.id ?? newCaptureId();
    this.callSid = identity.callSid;
    this.mode = identity.mode;
    this.actor = identity.actor;
    this.createdAt = new Date(deps.clock.now()).toISOString();
    this.updatedAt = this.createdAt;
  }

  protected abstract fieldViews(): FieldView[];
  /** Zero every buffer and stop every timer. Must be idempotent. */
  protected abstract release(): void;

  isActive(): boolean {
    return this.state === 'active' || this.state === 'tokenizing';
  }

  view(): CaptureView {
    return {
      id: this.id,
      callSid: this.callSid,
      mode: this.mode,
      state: this.state,
      currentField: this.currentField,
      fields: this.fieldViews(),
      result: this.result ? { ...this.result } : null,
      error: this.error ? { ...this.error } : null,
      createdAt: this.createdAt,
      updatedAt: this.updatedAt,
      version: this.version,
      ...(this.resumedAt ? { resumedAt: this.resumedAt } : {}),
    };
  }

  /** A session rebuilt on another node from its checkpoint: the same capture, its history, and the mark that it resumed. */
  protected resumedFrom(saved: Pick<CaptureView, 'createdAt' | 'version'>): void {
    this.createdAt = saved.createdAt;
    this.version = saved.version + RESUMED_VERSION_GAP;
    this.resumedAt = new Date(this.deps.clock.now()).toISOString();
  }

  /** Records a change: bumps the version and emits the new view. */
  protected changed(): void {
    this.version += 1;
    this.updatedAt = new Date(this.deps.clock.now()).toISOString();
    const view = this.view();
    try {
      this.deps.onView(view);
    } catch (err) {
      this.deps.logger.warn({ err, captureId: this.id }, 'capture view listener failed');
    }
  }

  protected record(action: string, outcome: AuditOutcome, details: AuditDetails = {}, actor: Actor = this.actor): void {
    this.deps.audit.record({
      action,
      actor,
      outcome,
      resource: { type: 'capture', id: this.id },
      details: { callSid: this.callSid, mode: this.mode, ...details },
    });
  }

  protected announceStart(fieldNames: readonly string[]): void {
    this.record('capture.started', 'success', { fields: fieldNames.join(',') });
    this.deps.logger.info({ captureId: this.id, callSid: this.callSid, mode: this.mode, fields: fieldNames }, 'capture started');
    this.changed();
  }

  protected assertActive(): void {
    if (!this.isActive()) throw new ToneguardError('capture_not_active', `Capture ${this.id} has already ended`, 409);
  }

  /** The requested name is untrusted input (it may be a card number typed in the wrong place), so it is not repeated. */
  protected fieldNotFound(): ToneguardError {
    return new ToneguardError('field_not_found', `Capture ${this.id} has no such field`, 404);
  }

  /** `null` for a capture with nothing to tokenize (a one-time code is checked, not kept). */
  protected completeWith(result: CaptureResult | null): void {
    this.end('complete', null);
    this.result = result ? { ...result } : null;
    this.currentField = null;
    this.record('capture.completed', 'success', { token: result?.token ?? null, brand: result?.brand ?? null, last4: result?.last4 ?? null });
    this.deps.logger.info({ captureId: this.id, brand: result?.brand }, 'capture completed');
    this.changed();
  }

  protected failWith(code: string, message: string): void {
    this.end('failed', { code, message });
    this.record('capture.failed', 'failure', { code });
    this.deps.logger.info({ captureId: this.id, code }, 'capture failed');
    this.changed();
  }

  protected cancelWith(reason: string, actor: Actor): void {
    this.end('cancelled', null);
    this.currentField = null;
    this.record('capture.cancelled', 'success', { reason }, actor);
    this.deps.logger.info({ captureId: this.id, reason }, 'capture cancelled');
    this.changed();
  }

  private end(state: CaptureState, error: { code: string; message: string } | null): void {
    this.state = state;
    this.error = error;
    this.release();
    this.deps.onEnd?.(this.id);
  }
}
