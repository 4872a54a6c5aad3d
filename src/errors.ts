/**
 * Every error Toneguard raises on purpose carries a stable machine `code`, a human
 * message and an HTTP status. Messages must never contain a sensitive value: name the
 * field, never echo what was typed.
 */
export class ToneguardError extends Error {
  readonly code: string;
  readonly status: number;

  constructor(code: string, message: string, status = 400, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ToneguardError';
    this.code = code;
    this.status = status;
  }

  toJSON(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

export function isToneguardError(err: unknown): err is ToneguardError {
  return err instanceof ToneguardError;
}
