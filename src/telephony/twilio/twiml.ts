import twilio from 'twilio';
import { mediaPath } from '../provider.js';
import { publicWsUrlFor } from './signature.js';

/** The path of our Media Streams WebSocket endpoint. */
export const MEDIA_STREAM_PATH = mediaPath('twilio');

export interface StreamTwimlOptions {
  /** The base URL of the media node the stream goes to (the service's public URL on a single node). */
  publicUrl: string;
  /** The call flow's stream parameters (`leg`, `agent`, `credential`), in order. */
  parameters: Readonly<Record<string, string>>;
  statusCallback?: string;
  /** The media socket path (SignalWire's cXML is the same document pointing at its own socket). */
  streamPath?: string;
  /** Requested by the platform when the stream ends (`<Connect action>`), to reconnect the leg after a node failure. */
  action?: string;
}

/**
 * A bidirectional `<Connect><Stream>`: Toneguard becomes the only audio path of the leg.
 * Stream URLs lose their query string, so the leg, agent and credential travel as `<Parameter>`s,
 * which Twilio echoes in the stream's `start.customParameters`.
 */
export function connectStreamTwiml(options: StreamTwimlOptions): string {
  const response = new twilio.twiml.VoiceResponse();
  const connect = options.action ? response.connect({ action: options.action, method: 'POST' }) : response.connect();
  const stream = connect.stream({
    url: publicWsUrlFor(options.publicUrl, options.streamPath ?? MEDIA_STREAM_PATH),
    ...(options.statusCallback ? { statusCallback: options.statusCallback, statusCallbackMethod: 'POST' } : {}),
  });
  for (const [name, value] of Object.entries(options.parameters)) stream.parameter({ name, value });
  return response.toString();
}

/** The answer to a refused voice webhook. */
export function hangupTwiml(): string {
  return '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>';
}
