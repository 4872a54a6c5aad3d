import type { Keypress } from '../capture/types.js';
import type { AudioEncoding } from '../dsp/types.js';

export type { AudioEncoding };

/** Which side of the call a media stream carries. */
export type LegRole = 'caller' | 'agent';

export type SampleRate = 8000 | 16000;

/** What a stream carries on the wire; the bridge runs at its sample rate. */
export interface StreamFormat {
  encoding: AudioEncoding;
  sampleRate: SampleRate;
}

export const NARROWBAND_PCMU: StreamFormat = Object.freeze({ encoding: 'pcmu', sampleRate: 8000 });

/** A provider-neutral stream start: who the stream belongs to and what it carries. */
export interface StreamStart {
  /** The platform's id of the call this stream belongs to: the caller's call, or the agent call Toneguard placed. */
  legCallId: string;
  /** The platform's id of the stream (the leg's call id when the platform has none). */
  streamId: string;
  format: StreamFormat;
  /** The parameters written into the call-control document: `leg`, `agent`, `credential`. Unauthenticated until the credential is redeemed. */
  parameters: Readonly<Record<string, string>>;
}

/**
 * Audio as codec bytes in a stream's encoding, as it arrived: an output in that encoding may send
 * these bytes instead of encoding the samples again.
 */
export interface EncodedAudio {
  readonly encoding: AudioEncoding;
  readonly bytes: Uint8Array;
  /**
   * The message the frame arrived in, and where in it the same bytes' strict base64 text is
   * (`[base64Start, base64End)`), when the wire carried them so and checked the text while decoding
   * it; an empty span otherwise. An output writing base64 may copy the text. A message is never
   * written once it has been read, so it may be kept (the bridge holds one frame's).
   */
  readonly message: Buffer;
  readonly base64Start: number;
  readonly base64End: number;
}

/** No message: the `message` of audio that did not arrive as base64 text. */
export const NO_MESSAGE = Buffer.alloc(0);

/** A normalised inbound media event. */
export type InboundMediaEvent =
  | { kind: 'connected' }
  /** Nothing to deliver yet: a reordering wire holds the message back until the one before it arrives. */
  | { kind: 'held' }
  | { kind: 'start'; start: StreamStart }
  /** Linear samples at the stream's rate, in a buffer the wire reuses: valid until its next message; `encoded` (as long) when the wire carried codec bytes. */
  | { kind: 'audio'; samples: Int16Array; encoded?: EncodedAudio }
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
  | 'rate_limited'
  /** A stream format the bridge cannot run (or an agent leg whose rate differs from the caller's). */
  | 'unsupported_format';

export type ParsedMediaMessage = { ok: true; event: InboundMediaEvent } | { ok: false; reason: MediaRejectReason };

/** What the bridge may do to a leg's outbound side. Implementations never block: a slow peer loses frames instead. */
export interface LegOutput {
  /**
   * Sends linear samples at the stream's rate; false when the frame was dropped (slow or closed
   * peer). `encoded`, when given, is exactly these samples as codec bytes, which an output in
   * that encoding sends as they are.
   */
  sendAudio(samples: Int16Array, encoded?: EncodedAudio): boolean;
  sendMark(name: string): void;
  /** Empties the far end's playback buffer. */
  clear(): void;
  close(code: number, reason: string): void;
}

/** The bridge's side of one leg: the adapter calls these with normalised events. */
export interface LegInput {
  /** Linear samples at the stream's rate, with the codec bytes they were decoded from when the wire carried them. */
  audio(samples: Int16Array, encoded?: EncodedAudio): void;
  dtmf(key: Keypress): void;
  ended(): void;
}
