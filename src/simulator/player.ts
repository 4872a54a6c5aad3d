import type { Config } from '../config/index.js';
import type { KeyedAudio } from './audio.js';
import type { TwilioRestStandIn } from './twilio/rest-stand-in.js';

/** One call as the simulator plays it from the platform's side, whatever the platform. */
export interface PlayedCall {
  /** The neutral call id the agent API uses (`/v1/calls/{id}/...`). */
  readonly callId: string;
  /** The platform's id of the agent call the service placed. */
  readonly agentCallId: string;
  /** The caller speaks or keys: audio at `speed`× real time, with the platform's DTMF event at each tone's end when given. */
  callerPlays(audio: Int16Array | KeyedAudio, speed?: number, dtmfEvents?: boolean): Promise<void>;
  agentPlays(audio: Int16Array, speed?: number): Promise<void>;
  /** Both legs stop their streams and the platform reports the end. */
  hangUp(): Promise<void>;
  /** The audio the agent leg received, as 8 kHz linear samples (what the independent decoder judges). */
  agentHeard(): Int16Array;
}

export interface DialRequest {
  from?: string;
  to?: string;
  /** The platform's STIR/SHAKEN verification result for the caller ID, e.g. `TN-Validation-Passed-A` (where it reports one). */
  stirVerstat?: string;
  /** How long to wait for the service to place the agent call (ms). */
  agentTimeoutMs?: number;
}

/** Plays calls into one running service as one platform: signed webhooks, its media format, its REST API (a local stand-in). */
export interface ProviderPlayer {
  readonly name: string;
  dial(request?: DialRequest): Promise<PlayedCall>;
}

/** The service a player plays into. */
export interface PlayedService {
  baseUrl: string;
  config: Config;
}

/** A provider's REST stand-in (where the service's agent-call placement lands), and the player that goes with it. */
export interface PlayerStandIn {
  /** Base URL to configure as the provider's API base. */
  readonly url: string;
  /** Where the service's text messages land when this stand-in also answers Twilio's Messages API (caller verification). */
  readonly messages?: TwilioRestStandIn;
  /** The provider's config section for a demo service: generated development credentials, its REST API here. */
  demoSettings(): Record<string, unknown>;
  player(service: PlayedService): ProviderPlayer;
  close(): Promise<void>;
}

/** Everything `simulate-call --provider NAME` and `demo --provider NAME` need of one provider. */
export interface PlayerKit {
  readonly name: string;
  /** Starts the REST stand-in (on `port`, or a free one). */
  startStandIn(port?: number): Promise<PlayerStandIn>;
  /** The configured REST API base the stand-in must listen on (simulate-call against a running service). */
  apiBaseUrl(config: Config): string;
  /** The variable that sets it, for the usage error when it is not local. */
  readonly apiBaseVariable: string;
  /** Whether `config` holds the provider's credentials (what its webhooks are signed with). */
  configured(config: Config): boolean;
  /** The agent identity the provider's agent calls ring. */
  agentId(config: Config): string;
}
