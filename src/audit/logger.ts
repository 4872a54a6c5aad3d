import pino, { type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level?: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to capture every line. */
  destination?: DestinationStream;
  name?: string;
}

/** Paths that may hold sensitive values anywhere in a log object. Removed, not censored. */
export const REDACT_PATHS = [
  'pan',
  'cvv',
  'ssn',
  'cardnumber',
  'cardNumber',
  'card_number',
  'securityCode',
  'security_code',
  'value',
  'values',
  'digits',
  'password',
  'authToken',
  'authorization',
  'req.headers.authorization',
  'req.headers["x-twilio-signature"]',
  'req.headers.cookie',
  '*.pan',
  '*.cvv',
  '*.ssn',
  '*.cardnumber',
  '*.card_number',
  '*.value',
  '*.values',
  '*.digits',
  '*.password',
  '*.authToken',
];

/** The one logger factory. Every module receives a child of this logger; none creates its own. */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      name: options.name ?? 'toneguard',
      level: options.level ?? 'info',
      redact: { paths: REDACT_PATHS, remove: true },
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/** A logger that writes nothing: for pure unit tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
