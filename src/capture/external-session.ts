import type { Actor } from '../audit/types.js';
import { SessionLifecycle, type SessionDeps, type SessionIdentity } from './lifecycle.js';
import type {
  CaptureModeDriver,
  CaptureResult,
  CaptureSession,
  ExternalCaptureHandle,
  FieldKind,
  FieldView,
  KeySource,
  Keypress,
  MaskPolicy,
} from './types.js';

type FieldPatch = Parameters<ExternalCaptureHandle['updateField']>[1];

/**
 * A capture driven by another mode (Twilio Pay): the driver collects and masks the digits
 * itself and reports progress through the handle; this session turns that into the same
 * agent views and audit events as an in-line capture. It never sees a digit.
 */
export class ExternalCaptureSession extends SessionLifecycle implements CaptureSession {
  private readonly fields: FieldView[];
  readonly handle: ExternalCaptureHandle;

  constructor(
    identity: SessionIdentity,
    fields: readonly { name: string; kind: FieldKind; mask: MaskPolicy }[],
    maxAttempts: number,
    private readonly driver: CaptureModeDriver,
    deps: SessionDeps,
  ) {
    super(identity, deps);
    this.fields = fields.map((f) => ({
      name: f.name,
      kind: f.kind,
      state: 'pending',
      digitCount: 0,
      valid: null,
      error: null,
      attempts: 0,
      maxAttempts,
      mask: f.mask,
    }));
    this.handle = this.createHandle();
  }

  /** Announces the capture and hands it to the driver; a driver that fails to start fails it. */
  start(request: Parameters<CaptureModeDriver['start']>[1]): void {
    this.announceStart(this.fields.map((f) => f.name));
    this.driver.start(this.handle, request).catch((err: unknown) => this.onDriverError('start', err));
  }

  /** The driver's medium masks the caller; the in-line bridge has nothing to do. */
  maskPolicy(): MaskPolicy | null {
    return null;
  }

  press(_key: Keypress, _atMs: number, _source: KeySource): void {}

  noteActivity(_atMs: number): void {}

  resetField(field: string, actor: Actor): void {
    this.assertActive();
    const view = this.field(field);
    Object.assign(view, { state: 'pending', digitCount: 0, valid: null, error: null, attempts: 0 });
    delete view.brand;
    delete view.last4;
    this.record('capture.field_reset', 'success', { field }, actor);
    this.changed();
    this.driver.resetField(this.handle, field).catch((err: unknown) => this.onDriverError('reset', err));
  }

  cancel(reason: string, actor: Actor): void {
    this.assertActive();
    for (const f of this.fields) if (f.state === 'pending' || f.state === 'capturing') f.state = 'cancelled';
    this.cancelWith(reason, actor);
    this.driver.cancel(this.handle, reason).catch((err: unknown) => this.onDriverError('cancel', err));
  }

  protected fieldViews(): FieldView[] {
    return this.fields.map((f) => ({ ...f }));
  }

  protected release(): void {}

  private field(name: string): FieldView {
    const view = this.fields.find((f) => f.name === name);
    if (!view) throw this.fieldNotFound();
    return view;
  }

  private onDriverError(operation: string, err: unknown): void {
    this.deps.logger.warn({ captureId: this.id, operation, errorType: err instanceof Error ? err.name : typeof err }, 'capture mode driver failed');
    if (this.isActive()) this.failWith('mode_failed', `The ${this.mode} capture could not ${operation}`);
  }

  private createHandle(): ExternalCaptureHandle {
    const whileActive = (fn: () => void): void => {
      if (this.isActive()) fn();
    };
    return {
      captureId: this.id,
      callSid: this.callSid,
      fields: this.fields.map((f) => ({ name: f.name, kind: f.kind })),
      updateField: (name: string, patch: FieldPatch) =>
        whileActive(() => {
          Object.assign(this.field(name), patch);
          if (patch.valid === false && patch.error) this.record('capture.field_invalid', 'failure', { field: name, error: patch.error });
          this.changed();
        }),
      setCurrentField: (name: string | null) =>
        whileActive(() => {
          if (name !== null) this.field(name);
          this.currentField = name;
          this.changed();
        }),
      complete: (result: CaptureResult) => whileActive(() => this.completeWith(result)),
      fail: (code: string, message: string) => whileActive(() => this.failWith(code, message)),
    };
  }
}
