import pino, { type Logger, type DestinationStream } from 'pino';
import { scrub, type ScrubKind } from './scrubber.js';
import { dropSensitiveSerializers, withoutSensitiveKeys } from './redact.js';

export type { Logger } from 'pino';

/** Told about every value the last-line scrubber masked: kinds only, never the value. */
export type ScrubListener = (hits: readonly ScrubKind[]) => void;

export interface LoggerOptions {
  level?: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to capture every line. */
  destination?: DestinationStream;
  name?: string;
  /** Called on every scrubber hit (the composition root counts and alerts). More can be added with `onScrubberHit`. */
  onScrub?: ScrubListener;
  /** Longest line written (default `MAX_LINE_CHARS`); a longer one is replaced by a short line that says so. */
  maxLineChars?: number;
}

/** No legitimate line comes near this; one that does was inflated by a value from outside. */
export const MAX_LINE_CHARS = 8192;
const LEVEL_AND_TIME = /^\{"level":(\d+),"time":"([^"\\]*)"/;

/**
 * Stands in for an over-long (already scrubbed) line: its level, time and size, and its head as a
 * string, a quarter of the cap so that JSON escaping keeps the whole line under it.
 */
function truncatedLine(line: string, maxLineChars: number): string {
  const m = LEVEL_AND_TIME.exec(line);
  const head = line.slice(0, Math.floor(maxLineChars / 4));
  return `${JSON.stringify({ level: m ? Number(m[1]) : 40, time: m ? m[2] : new Date().toISOString(), msg: 'log line truncated', truncated: true, chars: line.length, head })}\n`;
}

/** Keeps an error's type, code, message and frames; the line scrubber then masks anything in them. */
export function serializeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { type: typeof err, message: String(err) };
  const out: Record<string, unknown> = { type: err.name, message: err.message };
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') out.code = code;
  if (err.stack) out.stack = err.stack.split('\n').filter((line) => /^\s+at /.test(line)).join('\n');
  if (err.cause !== undefined) out.cause = serializeError(err.cause);
  return out;
}

const scrubListeners = new WeakMap<Logger, Set<ScrubListener>>();

/** Adds a listener to a logger built by `createLogger`. Returns false for any other logger. */
export function onScrubberHit(logger: Logger, listener: ScrubListener): boolean {
  const listeners = scrubListeners.get(logger);
  if (!listeners) return false;
  listeners.add(listener);
  return true;
}

/** Whether the logger came from `createLogger`, and so scrubs every line it writes. */
export function isScrubbingLogger(logger: Logger): boolean {
  return scrubListeners.has(logger);
}

function notify(listeners: Set<ScrubListener>, hits: readonly ScrubKind[]): void {
  for (const listener of listeners) {
    try {
      listener(hits);
    } catch {
      // A failing listener must never stop a line from being written.
    }
  }
}

/** The one logger factory. Every module receives a child of this logger; none creates its own. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const listeners = new Set<ScrubListener>(options.onScrub ? [options.onScrub] : []);
  const maxLineChars = options.maxLineChars ?? MAX_LINE_CHARS;
  const logger = pino(
    {
      name: options.name ?? 'toneguard',
      level: options.level ?? 'info',
      // One walk removing sensitive keys at any depth: pino's path-based redact costs ~100 µs a line with wildcards.
      formatters: { log: withoutSensitiveKeys },
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { ...dropSensitiveSerializers(), err: serializeError, error: serializeError },
      hooks: {
        streamWrite(line) {
          // Scrub the whole line first: a cut could leave part of a card number the scrubber no longer recognises.
          const result = scrub(line, { json: true });
          if (result.hits.length > 0) notify(listeners, result.hits);
          return result.text.length <= maxLineChars ? result.text : truncatedLine(result.text, maxLineChars);
        },
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
  scrubListeners.set(logger, listeners);
  return logger;
}

/** A logger that writes nothing: for pure unit tests. */
export function silentLogger(): Logger {
  return createLogger({ level: 'silent', destination: { write: () => undefined } });
}
