import type { StreamFormat } from '../../media/types.js';

/** The `<Stream contentType>` values Plivo documents, by the format they carry. */
export type PlivoContentType = 'audio/x-mulaw;rate=8000' | 'audio/x-l16;rate=8000' | 'audio/x-l16;rate=16000';

export function plivoContentType(format: StreamFormat): PlivoContentType {
  if (format.encoding === 'pcmu') return 'audio/x-mulaw;rate=8000';
  return format.sampleRate === 16000 ? 'audio/x-l16;rate=16000' : 'audio/x-l16;rate=8000';
}

export interface PlivoStreamOptions {
  /** `wss://…/media/plivo`. */
  streamUrl: string;
  format: StreamFormat;
  /** leg, agent, credential: echoed in the stream's `start` as `extra_headers`. */
  parameters: Readonly<Record<string, string>>;
  statusCallbackUrl?: string;
}

const escapeXml = (value: string) =>
  value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string);

/**
 * Plivo allows only `[A-Za-z0-9]` in `extraHeaders` (`k=v,k=v`, at most 512 bytes), and a
 * credential has dots, dashes and underscores: every value travels as lower-case hex. Keys are
 * ours (`leg`, `agent`, `credential`), already alphanumeric.
 */
export function encodeExtraHeaders(parameters: Readonly<Record<string, string>>): string {
  return Object.entries(parameters)
    .map(([key, value]) => `${key}=${Buffer.from(value, 'utf8').toString('hex')}`)
    .join(',');
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;
const KEY = /^[A-Za-z0-9]{1,32}$/;
export const MAX_EXTRA_HEADERS = 512;

/**
 * Reads the `extra_headers` of a stream's `start` back into parameters. The docs show the pairs
 * separated by `;` in the start although the XML separates them by `,`: both are accepted, and
 * so is an object. Keys that are not ours in shape and values that are not hex are dropped
 * (a parameter that cannot be read is a parameter never written by us).
 */
export function decodeExtraHeaders(extra: unknown): Record<string, string> {
  const pairs: [string, string][] = [];
  if (typeof extra === 'string' && extra.length <= MAX_EXTRA_HEADERS * 2) {
    for (const item of extra.split(/[;,]/)) {
      const at = item.indexOf('=');
      if (at > 0) pairs.push([item.slice(0, at).trim(), item.slice(at + 1).trim()]);
    }
  } else if (typeof extra === 'object' && extra !== null && !Array.isArray(extra)) {
    for (const [key, value] of Object.entries(extra).slice(0, 16)) if (typeof value === 'string') pairs.push([key, value]);
  }
  // KEY admits no `_`, so no key can be `__proto__`.
  const parameters: Record<string, string> = {};
  for (const [key, value] of pairs) {
    if (KEY.test(key) && value.length <= MAX_EXTRA_HEADERS && HEX.test(value)) parameters[key] = Buffer.from(value, 'hex').toString('utf8');
  }
  return parameters;
}

/**
 * The answer to a Plivo call: one bidirectional `<Stream>` that runs alone (`keepCallAlive`), so
 * Toneguard is the leg's only audio path and nothing after it runs until the stream ends. Inbound
 * track only (Plivo forbids others with `bidirectional`); noise cancellation stays off, as it would
 * alter tones and voice.
 */
export function plivoStreamXml(options: PlivoStreamOptions): string {
  const attributes: [string, string][] = [
    ['bidirectional', 'true'],
    ['keepCallAlive', 'true'],
    ['audioTrack', 'inbound'],
    ['contentType', plivoContentType(options.format)],
    ['streamTimeout', '86400'],
    ['extraHeaders', encodeExtraHeaders(options.parameters)],
  ];
  if (options.statusCallbackUrl) attributes.push(['statusCallbackUrl', options.statusCallbackUrl], ['statusCallbackMethod', 'POST']);
  const rendered = attributes.map(([name, value]) => ` ${name}="${escapeXml(value)}"`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?><Response><Stream${rendered}>${escapeXml(options.streamUrl)}</Stream></Response>`;
}

export function plivoHangupXml(): string {
  return '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>';
}
