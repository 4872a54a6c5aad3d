import type { Actor } from '../audit/types.js';
import { ToneguardError } from '../errors.js';
import { detectBrand, type CardBrand } from './brands.js';
import { TimerSlot } from './clock.js';
import { DigitBuffer } from './digits.js';
import type { FieldContext, FieldSpec } from './fields.js';
import { SessionLifecycle, type SessionDeps, type SessionIdentity } from './lifecycle.js';
import type {
  CaptureSession,
  CaptureView,
  FieldKind,
  FieldState,
  FieldView,
  KeySource,
  Keypress,
  MaskPolicy,
  Tokenizer,
} from './types.js';

/**
 * How long a timeout waits for a keypress already under way (`noteActivity`) to land before
 * it takes effect. Longer than any real DTMF tone.
 */
export const KEY_GRACE_MS = 2_000;

export interface InlineFieldSetup {
  spec: FieldSpec;
  mask: MaskPolicy;
  requireMatching: boolean;
}

export interface InlineSessionSettings {
  fields: readonly InlineFieldSetup[];
  maxAttempts: number;
  firstDigitTimeoutMs: number;
  interDigitTimeoutMs: number;
  totalTimeoutMs: number;
  subjectId?: string;
}

export interface InlineSessionDeps extends SessionDeps {
  tokenizer: Tokenizer;
  /** A field was accepted: the owner may checkpoint the completed fields (`completedValues`). */
  onFieldComplete?(session: InlineCaptureSession): void;
}

/** What a resumed session starts from: its checkpoint's completed values (the session copies them) and its last saved view. */
export interface SavedCapture {
  completed: ReadonlyMap<string, Uint8Array>;
  view: Pick<CaptureView, 'createdAt' | 'version' | 'fields'>;
}

/** One requested field and its live entry. */
class FieldSlot {
  state: FieldState = 'pending';
  readonly entry: DigitBuffer;
  /** The first entry, while waiting for the confirming one (enter-twice matching). */
  readonly firstEntry: DigitBuffer;
  hasFirstEntry = false;
  /** Entries rejected so far (invalid, mismatch, timeout). */
  attempts = 0;
  valid: boolean | null = null;
  error: string | null = null;
  brand: CardBrand | undefined;
  last4: string | undefined;
  /** The length of the accepted entry, kept after its buffer is zeroed. */
  completedLength: number | null = null;

  constructor(readonly setup: InlineFieldSetup) {
    this.entry = new DigitBuffer(setup.spec.maxLength);
    this.firstEntry = new DigitBuffer(setup.spec.maxLength);
  }

  get name(): string {
    return this.setup.spec.name;
  }

  get kind(): FieldKind {
    return this.setup.spec.kind;
  }

  /** Forgets the entry in progress (and any first entry). */
  clearEntry(): void {
    this.entry.clear();
    this.firstEntry.clear();
    this.hasFirstEntry = false;
  }

  restart(): void {
    this.clearEntry();
    this.state = 'pending';
    this.attempts = 0;
    this.valid = null;
    this.error = null;
    this.brand = undefined;
    this.last4 = undefined;
    this.completedLength = null;
  }

  isZeroed(): boolean {
    return this.entry.isZeroed() && this.firstEntry.isZeroed();
  }

  view(maxAttempts: number): FieldView {
    const view: FieldView = {
      name: this.name,
      kind: this.kind,
      state: this.state,
      digitCount: this.completedLength ?? this.entry.length,
      valid: this.valid,
      error: this.error,
      attempts: this.attempts,
      maxAttempts,
      mask: this.setup.mask,
    };
    if (this.brand) view.brand = this.brand;
    if (this.last4) view.last4 = this.last4;
    return view;
  }
}

/**
 * An in-line capture: keypresses decoded from the caller's audio drive a per-field state
 * machine. Timeouts run on the injected clock; `atMs` (caller-audio time) only orders keys.
 */
export class InlineCaptureSession extends SessionLifecycle implements CaptureSession {
  private readonly slots: FieldSlot[];
  private readonly fieldTimer: TimerSlot;
  private readonly totalTimer: TimerSlot;
  private lastKeyAtMs = Number.NEGATIVE_INFINITY;
  private keyInProgress = false;
  private totalLimitReached = false;

  constructor(
    identity: Omit<SessionIdentity, 'mode'>,
    private readonly settings: InlineSessionSettings,
    protected override readonly deps: InlineSessionDeps,
  ) {
    super({ ...identity, mode: 'inline' }, deps);
    this.slots = settings.fields.map((setup) => new FieldSlot(setup));
    this.fieldTimer = new TimerSlot(deps.clock);
    this.totalTimer = new TimerSlot(deps.clock);
  }

  /** Opens the first field and starts the clocks. Call once, after registering the session. */
  start(): void {
    this.totalTimer.arm(this.settings.totalTimeoutMs, () => this.onTotalLimit());
    this.openNextField();
    this.announceStart(this.slots.map((s) => s.name));
  }

  /**
   * Starts a session rebuilt from its checkpoint (its node was lost) instead of `start`: the saved
   * fields are complete again, every other field is pending (partial digits were never saved, so
   * the field in progress is keyed again), and the clocks start afresh.
   */
  resume(saved: SavedCapture): void {
    for (const slot of this.slots) {
      const value = saved.completed.get(slot.name);
      if (!value || slot.kind === 'otp') continue;
      for (const byte of value) slot.entry.push(String.fromCharCode(byte));
      slot.state = 'complete';
      slot.valid = true;
      slot.completedLength = slot.entry.length;
      slot.attempts = saved.view.fields.find((f) => f.name === slot.name)?.attempts ?? 0;
      if (slot.kind === 'card_number') {
        slot.brand = detectBrand(slot.entry.digits()) ?? undefined;
        slot.last4 = slot.entry.last4();
      }
    }
    this.resumedFrom(saved.view);
    this.totalTimer.arm(this.settings.totalTimeoutMs, () => this.onTotalLimit());
    this.openNextField();
    const completed = this.slots.filter((s) => s.state === 'complete').map((s) => s.name);
    this.record('capture.resumed', 'success', { completed: completed.join(','), currentField: this.currentField });
    this.deps.logger.info({ captureId: this.id, callSid: this.callSid, completed }, 'capture resumed');
    if (this.current()) this.changed();
    else void this.tokenize();
  }

  /** Copies (the caller zeroes them) of the accepted fields' values, for a checkpoint; a one-time code is never among them. */
  completedValues(): Map<string, Uint8Array> {
    const values = new Map<string, Uint8Array>();
    for (const slot of this.slots) if (slot.state === 'complete' && slot.kind !== 'otp') values.set(slot.name, slot.entry.copy());
    return values;
  }

  maskPolicy(): MaskPolicy | null {
    return this.state === 'active' ? (this.current()?.setup.mask ?? null) : null;
  }

  press(key: Keypress, atMs: number, _source: KeySource): void {
    // Keys are decided in caller-audio order; one that goes back in time is a duplicate report.
    if (this.state !== 'active' || atMs < this.lastKeyAtMs) return;
    this.lastKeyAtMs = atMs;
    this.keyInProgress = false;
    const slot = this.current();
    if (slot) this.applyKey(slot, key);
    if (this.totalLimitReached && this.state === 'active') this.timeOut();
  }

  noteActivity(_atMs: number): void {
    if (this.state === 'active') this.keyInProgress = true;
  }

  resetField(field: string, actor: Actor): void {
    if (this.state !== 'active') throw new ToneguardError('capture_not_active', `Capture ${this.id} is not taking input`, 409);
    const slot = this.slots.find((s) => s.name === field);
    if (!slot) throw this.fieldNotFound();
    const current = this.current();
    if (current && current !== slot) {
      current.clearEntry();
      current.state = 'pending';
    }
    slot.restart();
    this.record('capture.field_reset', 'success', { field: slot.name }, actor);
    this.openNextField();
    this.changed();
  }

  cancel(reason: string, actor: Actor): void {
    this.assertActive();
    for (const slot of this.slots) if (slot.state === 'pending' || slot.state === 'capturing') slot.state = 'cancelled';
    this.cancelWith(reason, actor);
  }

  /** For tests and diagnostics: true when no captured digit remains in this session's buffers. */
  buffersZeroed(): boolean {
    return this.slots.every((s) => s.isZeroed());
  }

  protected fieldViews(): FieldView[] {
    return this.slots.map((s) => s.view(this.settings.maxAttempts));
  }

  protected release(): void {
    this.fieldTimer.disarm();
    this.totalTimer.disarm();
    for (const slot of this.slots) slot.clearEntry();
  }

  private current(): FieldSlot | undefined {
    return this.slots.find((s) => s.state === 'capturing');
  }

  private context(): FieldContext {
    const card = this.slots.find((s) => s.kind === 'card_number' && s.state === 'complete');
    return { cardBrand: card?.brand ?? null, nowMs: this.deps.clock.now() };
  }

  private applyKey(slot: FieldSlot, key: Keypress): void {
    if (key === '*') {
      slot.clearEntry();
      slot.brand = undefined;
      this.armFirstDigit(slot);
      this.changed();
    } else if (key === '#') {
      if (slot.entry.length > 0) this.submit(slot);
    } else if (slot.entry.push(key)) {
      if (slot.kind === 'card_number') slot.brand = detectBrand(slot.entry.digits()) ?? undefined;
      if (slot.entry.length >= slot.setup.spec.autoCompleteLength(slot.entry.digits(), this.context())) {
        this.submit(slot);
      } else {
        this.armFieldTimeout(slot, this.settings.interDigitTimeoutMs);
        this.changed();
      }
    }
  }

  private submit(slot: FieldSlot): void {
    const outcome = slot.setup.spec.validate(slot.entry.digits(), this.context());
    if (slot.kind === 'card_number') slot.brand = outcome.brand;
    if (!outcome.valid) return this.reject(slot, outcome.error);
    if (!slot.setup.requireMatching) return this.accept(slot);
    if (!slot.hasFirstEntry) {
      slot.firstEntry.assign(slot.entry);
      slot.hasFirstEntry = true;
      slot.entry.clear();
      slot.error = null;
      this.armFirstDigit(slot);
      return this.changed();
    }
    if (slot.firstEntry.equals(slot.entry)) return this.accept(slot);
    this.reject(slot, 'mismatch');
  }

  private accept(slot: FieldSlot): void {
    slot.state = 'complete';
    slot.valid = true;
    slot.error = null;
    slot.completedLength = slot.entry.length;
    if (slot.kind === 'card_number') slot.last4 = slot.entry.last4();
    slot.firstEntry.clear();
    slot.hasFirstEntry = false;
    if (slot.kind === 'card_number' && this.reopenStaleCvv()) return;
    this.openNextField();
    if (!this.current()) return void this.tokenize();
    this.changed();
    this.deps.onFieldComplete?.(this);
  }

  /** An entry was refused: another attempt while any remain, else the capture fails. */
  private reject(slot: FieldSlot, error: string): void {
    slot.clearEntry();
    slot.attempts += 1;
    slot.valid = false;
    slot.error = error;
    // Timeouts are not validation failures: the anomaly rules count only the latter.
    if (error !== 'timeout') this.record('capture.field_invalid', 'failure', { field: slot.name, error });
    if (slot.attempts < this.settings.maxAttempts) {
      this.armFirstDigit(slot);
      return this.changed();
    }
    slot.state = 'invalid';
    slot.error = 'too_many_attempts';
    this.failWith('too_many_attempts', `Field ${slot.name} was refused ${slot.attempts} times`);
  }

  /**
   * A CVV taken before its card accepted 3 or 4 digits; once the brand is known it must match.
   * Returns true when the CVV had to be asked for again.
   */
  private reopenStaleCvv(): boolean {
    const cvv = this.slots.find((s) => s.kind === 'cvv' && s.state === 'complete');
    if (!cvv || cvv.setup.spec.validate(cvv.entry.digits(), this.context()).valid) return false;
    cvv.state = 'capturing';
    cvv.completedLength = null;
    this.currentField = cvv.name;
    this.reject(cvv, 'invalid_cvv');
    return true;
  }

  private openNextField(): void {
    const next = this.current() ?? this.slots.find((s) => s.state === 'pending');
    this.currentField = next?.name ?? null;
    if (!next) return this.fieldTimer.disarm();
    next.state = 'capturing';
    this.armFirstDigit(next);
  }

  private armFirstDigit(slot: FieldSlot): void {
    this.armFieldTimeout(slot, this.settings.firstDigitTimeoutMs);
  }

  /** Like the total limit, a field timeout waits (once) for a keypress already under way. */
  private armFieldTimeout(slot: FieldSlot, ms: number): void {
    this.fieldTimer.arm(ms, () => {
      if (this.keyInProgress) this.fieldTimer.arm(KEY_GRACE_MS, () => this.reject(slot, 'timeout'));
      else this.reject(slot, 'timeout');
    });
  }

  private onTotalLimit(): void {
    if (!this.keyInProgress) return this.timeOut();
    this.totalLimitReached = true;
    this.totalTimer.arm(KEY_GRACE_MS, () => this.timeOut());
  }

  private timeOut(): void {
    const slot = this.current();
    if (slot) {
      slot.state = 'timeout';
      slot.error = 'timeout';
    }
    this.failWith('timeout', 'The capture reached its total time limit');
  }

  private async tokenize(): Promise<void> {
    // Nothing to tokenize: the release that ends the session zeroes the code.
    if (this.slots.every((s) => s.kind === 'otp')) return this.completeWith(null);
    this.state = 'tokenizing';
    this.totalTimer.disarm();
    this.changed();
    const values = new Map<string, Uint8Array>();
    const kinds = new Map<string, FieldKind>();
    for (const slot of this.slots) {
      // A one-time code was compared on entry; it never leaves the session.
      if (slot.kind !== 'otp') {
        values.set(slot.name, slot.entry.copy());
        kinds.set(slot.name, slot.kind);
      }
      slot.entry.clear();
    }
    const request = { captureId: this.id, callSid: this.callSid, actor: this.actor, values, kinds, subjectId: this.settings.subjectId };
    try {
      const result = await this.deps.tokenizer.tokenize(request);
      if (this.state === 'tokenizing') this.completeWith(result);
    } catch (err) {
      // Only the error's class: a message could in theory echo what it was given.
      this.deps.logger.error({ captureId: this.id, errorType: err instanceof Error ? err.name : typeof err }, 'tokenize failed');
      if (this.state === 'tokenizing') this.failWith('tokenize_failed', 'The vault could not tokenize the captured fields');
    } finally {
      // The vault owns the copies and should zero them; make sure, whatever it did.
      for (const copy of values.values()) copy.fill(0);
    }
  }
}
