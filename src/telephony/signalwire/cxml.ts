import { mediaPath } from '../provider.js';
import { publicWsUrlFor } from '../twilio/signature.js';

export const SIGNALWIRE_MEDIA_PATH = mediaPath('signalwire');

export type SignalWireCodec = 'PCMU' | 'L16@16000h';

export interface StreamCxmlOptions {
  /** The base URL of the media node the stream goes to (the service's public URL on a single node). */
  publicUrl: string;
  /** The call flow's stream parameters (`leg`, `agent`, `credential`), in order. */
  parameters: Readonly<Record<string, string>>;
  /** Sent back by SignalWire as `Authorization: Bearer …` on the media upgrade. */
  bearerToken: string;
  codec: SignalWireCodec;
  statusCallback?: string;
  /** Requested by the platform when the stream ends (`<Connect action>`). */
  action?: string;
}

const escapeXml = (value: string) => value.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
const attributes = (pairs: [string, string | undefined][]) =>
  pairs
    .filter((pair): pair is [string, string] => pair[1] !== undefined)
    .map(([name, value]) => ` ${name}="${escapeXml(value)}"`)
    .join('');

/**
 * A bidirectional cXML `<Connect><Stream>` (Twilio-compatible): SignalWire streams the leg to
 * Toneguard and plays back only what Toneguard sends. `realtime="true"` asks for live playout
 * rather than buffered; PCMU is SignalWire's default codec, so the attribute is written only for L16.
 * Stream URLs take no query string, so the leg, agent and credential travel as `<Parameter>`s.
 */
export function connectStreamCxml(options: StreamCxmlOptions): string {
  const stream = attributes([
    ['url', publicWsUrlFor(options.publicUrl, SIGNALWIRE_MEDIA_PATH)],
    ['codec', options.codec === 'PCMU' ? undefined : options.codec],
    ['realtime', 'true'],
    ['authBearerToken', options.bearerToken],
    ['statusCallback', options.statusCallback],
    ['statusCallbackMethod', options.statusCallback ? 'POST' : undefined],
  ]);
  const parameters = Object.entries(options.parameters)
    .map(([name, value]) => `<Parameter${attributes([['name', name], ['value', value]])}/>`)
    .join('');
  const connect = attributes([
    ['action', options.action],
    ['method', options.action ? 'POST' : undefined],
  ]);
  return `<?xml version="1.0" encoding="UTF-8"?><Response><Connect${connect}><Stream${stream}>${parameters}</Stream></Connect></Response>`;
}
