import type { Keypress } from '../capture/types.js';

/** Which side of the call a media stream carries. */
export type LegRole = 'caller' | 'agent';

/** A provider-neutral stream start: who the stream belongs to and what it carries. */
export interface StreamStart {
  callSid: string;
  streamSid: string;
  /** The provider's custom parameters (Twilio `<Parameter>`s): `leg`, `agent`, `credential`. Unauthenticated until the credential is redeemed. */
  parameters: Readonly<Record<string, string>>;
}

/** A normalised inbound media event. Audio payloads stay encoded until the leg decodes them into its own buffer. */
export type InboundMediaEvent =
  | { kind: 'connected' }
  | { kind: 'start'; start: StreamStart }
  | { kind: 'audio'; payload: string }
  | { kind: 'dtmf'; key: Keypress }
  | { kind: 'mark'; name: string }
  | { kind: 'stop' };

/** Stable reason codes for refused messages; logged and counted, never with the payload. */
export type MediaRejectReason =
  | 'invalid_json'
  | 'invalid_message'
  | 'unknown_event'
  | 'bad_payload'
  | 'frame_size'
  | 'media_before_start'
  | 'duplicate_start'
  | 'unknown_call'
  | 'credential_invalid'
  | 'credential_expired'
  | 'credential_reused'
  | 'start_timeout'
  | 'rate_limited';

export type ParsedMediaMessage = { ok: true; event: InboundMediaEvent } | { ok: false; reason: MediaRejectReason };

/** What the bridge may do to a leg's outbound side. Implementations never block: a slow peer loses frames instead. */
export interface LegOutput {
  /** Sends linear 8 kHz samples; false when the frame was dropped (slow or closed peer). */
  sendAudio(samples: Int16Array): boolean;
  sendMark(name: string): void;
  /** Empties the far end's playback buffer. */
  clear(): void;
  close(code: number, reason: string): void;
}

/** The bridge's side of one leg: the adapter calls these with normalised events. */
export interface LegInput {
  audio(samples: Int16Array): void;
  dtmf(key: Keypress): void;
  ended(): void;
}
