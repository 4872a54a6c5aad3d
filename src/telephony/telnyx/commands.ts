import type { ActionAnswerParams, ActionHangupParams, ActionStartStreamingParams } from 'telnyx/resources/calls/actions';
import type { CallDialParams } from 'telnyx/resources/calls/calls';
import type { MediaNode } from '../call-flow.js';
import type { TelnyxCodec } from './settings.js';
import { telnyxSampleRate } from './settings.js';
import { encodeClientState } from './webhook.js';

/**
 * The Call Control commands Toneguard sends, as request bodies (pure: the REST client posts them).
 * Each carries a `command_id` derived from the call and the action, so that a command sent twice
 * (a retried webhook) is one command to Telnyx.
 */

export interface StreamingStartOptions {
  streamUrl: string;
  codec: TelnyxCodec;
  /** The upgrade token Telnyx sends back as `x-telnyx-streaming-auth-token`. */
  authToken: string;
  /** `leg`, `agent`, `credential`: echoed in the stream's `start.custom_parameters`. */
  parameters: Readonly<Record<string, string>>;
}

export const commandId = (action: string, callControlIdValue: string) => `toneguard-${action}-${callControlIdValue}`;

/**
 * What the caller's `call.answered` needs to start its stream: the flow's parameters and the media
 * node it picked. Written into the `answer` command's `client_state`, which Telnyx echoes on the
 * leg's later webhooks, so that whichever node receives `call.answered` can start the stream.
 */
export interface CallerStreamState {
  media: MediaNode;
  parameters: Readonly<Record<string, string>>;
}

export function answerCommand(callControlIdValue: string, state?: CallerStreamState): ActionAnswerParams {
  return {
    command_id: commandId('answer', callControlIdValue),
    ...(state ? { client_state: encodeClientState({ toneguard: 'caller', media: state.media, parameters: state.parameters }) } : {}),
  };
}

/**
 * Bidirectional RTP streaming of the leg's own inbound audio, injecting into the same leg:
 * `rtp` (the default `mp3` mode drops what we send), `inbound_track` (with both tracks we would
 * hear our own audio), `self` (the legs are never bridged, so there is no other leg to target).
 */
export function streamingStartCommand(callControlIdValue: string, options: StreamingStartOptions): ActionStartStreamingParams {
  return {
    stream_url: options.streamUrl,
    stream_track: 'inbound_track' as const,
    stream_codec: options.codec,
    stream_bidirectional_mode: 'rtp',
    stream_bidirectional_codec: options.codec,
    stream_bidirectional_sampling_rate: telnyxSampleRate(options.codec),
    stream_bidirectional_target_legs: 'self',
    stream_auth_token: options.authToken,
    custom_parameters: Object.entries(options.parameters).map(([name, value]) => ({ name, value })),
    command_id: commandId('stream', callControlIdValue),
  };
}

export interface DialOptions {
  connectionId: string;
  to: string;
  from: string;
  /** The caller's call this agent call belongs to (comes back in every webhook of the new call). */
  callerCallId: string;
}

export function dialCommand(options: DialOptions): CallDialParams {
  return {
    connection_id: options.connectionId,
    to: options.to,
    from: options.from,
    client_state: encodeClientState({ toneguard: 'agent', call: options.callerCallId }),
    command_id: commandId('dial', options.callerCallId),
  };
}

export function hangupCommand(callControlIdValue: string): ActionHangupParams {
  return { command_id: commandId('hangup', callControlIdValue) };
}
