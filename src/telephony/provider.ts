import type { IncomingMessage } from 'node:http';
import type { Router } from 'express';
import type { AppContext } from '../context.js';
import type { CallFlow } from './call-flow.js';
import type { MediaWire } from './media-socket.js';

/** What a provider's pieces may use of the service. */
export type ProviderContext = Pick<AppContext, 'config' | 'logger' | 'audit' | 'metrics' | 'calls' | 'verification' | 'onShutdown'>;

export interface PlaceCallRequest {
  /** The neutral id of the customer call the agent call belongs to (the provider puts it in the agent leg's webhook URL). */
  callerCallId: string;
  /** The caller's number and the number dialled, as the inbound webhook reported them. */
  from?: string;
  to?: string;
}

/** Places the agent's call through the provider's REST API (a stand-in server in tests and the simulator). */
export interface AgentDialer {
  /** Resolves to the provider's id of the new call. */
  placeCall(request: PlaceCallRequest): Promise<string>;
}

/**
 * One telephony platform on the seam. The platform streams both the caller's call and the agent's
 * call to Toneguard and never bridges them; everything specific to it lives here.
 */
export interface TelephonyProvider {
  /** The route segment: webhooks under `/{name}/...`, the media socket at `/media/{name}`. */
  readonly name: string;
  /** Webhook routes, each verifying the provider's signature (403, an audit record and a metric on failure), driving the call flow. */
  router(flow: CallFlow): Router;
  /** Verifies a media WebSocket upgrade (signature, token); audits and counts its own refusals. */
  verifyUpgrade(req: IncomingMessage): boolean;
  /** The media wire format: frames in, audio, marks and clears out. */
  readonly wire: MediaWire;
  /** The WebSocket subprotocol the provider requires, if any. */
  readonly subprotocol?: string;
  readonly dialer: AgentDialer;
  /** The agent identity the agent calls ring, bound into each agent leg's stream credential. */
  readonly agentId: string;
  /** How long an answered call id is remembered, so that a replayed webhook is refused. */
  readonly handledCallRetentionDays: number;
}

/** The path of a provider's media socket. */
export const mediaPath = (provider: string): string => `/media/${provider}`;

/** The agent identity of a `client:` target (`client:alice` → `alice`); other targets use the whole target. */
export function agentIdentity(agentTarget: string): string {
  return agentTarget.startsWith('client:') ? agentTarget.slice('client:'.length) : agentTarget;
}
