import type { SampleRate } from '../../media/types.js';
import type { WsCredentials } from './ws-auth.js';

export interface ListenOptions {
  /** `wss://…/media/jambonz`. */
  streamUrl: string;
  /** Called when the listen ends: answered with a hang-up, so the leg ends with its stream. */
  actionHook: string;
  sampleRate: SampleRate;
  /** leg, agent, credential: merged into the socket's first (metadata) message. */
  parameters: Readonly<Record<string, string>>;
  wsAuth: WsCredentials;
  /** `bidirectionalAudio.streaming`: raw L16 frames back rather than `playAudio` files. */
  streaming: boolean;
}

/**
 * The answer to a jambonz call: one top-level `listen` with bidirectional audio, so Toneguard is
 * the leg's only audio path (a `listen` nested in a `dial` cannot be bidirectional, and a `dial`
 * would bridge the legs). Mono, both directions at one rate; keys reach us as `dtmf` messages.
 */
export function jambonzListenDocument(options: ListenOptions): unknown[] {
  return [
    {
      verb: 'listen',
      url: options.streamUrl,
      actionHook: options.actionHook,
      mixType: 'mono',
      sampleRate: options.sampleRate,
      passDtmf: true,
      bidirectionalAudio: { enabled: true, streaming: options.streaming, sampleRate: options.sampleRate },
      metadata: { ...options.parameters },
      wsAuth: { username: options.wsAuth.username, password: options.wsAuth.password },
    },
  ];
}

export function jambonzHangupDocument(): unknown[] {
  return [{ verb: 'hangup' }];
}
