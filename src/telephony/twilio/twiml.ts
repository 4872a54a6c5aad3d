import twilio from 'twilio';
import { publicWsUrlFor } from './signature.js';

/** The path of our Media Streams WebSocket endpoint. */
export const MEDIA_STREAM_PATH = '/media/twilio';

export type StreamLeg = 'caller' | 'agent';

export interface StreamTwimlOptions {
  publicUrl: string;
  leg: StreamLeg;
  /** The leg's single-use stream credential, redeemed at the stream's `start`. */
  credential: string;
  /** The agent identity, on the agent leg (covered by the credential). */
  agent?: string;
  statusCallback?: string;
}

/**
 * A bidirectional `<Connect><Stream>`: Toneguard becomes the only audio path of the leg.
 * Stream URLs lose their query string, so the leg, agent and credential travel as `<Parameter>`s,
 * which Twilio echoes in the stream's `start.customParameters`.
 */
export function connectStreamTwiml(options: StreamTwimlOptions): string {
  const response = new twilio.twiml.VoiceResponse();
  const stream = response.connect().stream({
    url: publicWsUrlFor(options.publicUrl, MEDIA_STREAM_PATH),
    ...(options.statusCallback ? { statusCallback: options.statusCallback, statusCallbackMethod: 'POST' } : {}),
  });
  stream.parameter({ name: 'leg', value: options.leg });
  if (options.agent) stream.parameter({ name: 'agent', value: options.agent });
  stream.parameter({ name: 'credential', value: options.credential });
  return response.toString();
}

/** The agent identity of a `client:` target (`client:alice` → `alice`); other targets use the whole target. */
export function agentIdentity(agentTarget: string): string {
  return agentTarget.startsWith('client:') ? agentTarget.slice('client:'.length) : agentTarget;
}
