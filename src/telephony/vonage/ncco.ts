import { vonageContentType, type VonageRate } from './settings.js';

/** The NCCO header naming the leg's own call uuid: `websocket:connected` carries it back, and the leg credential is bound to it. */
export const CALL_HEADER = 'call';

export interface WebsocketNccoOptions {
  /** `wss://…/media/vonage`. */
  streamUrl: string;
  rate: VonageRate;
  /** The leg's call uuid (from the answer webhook). */
  callUuid: string;
  /** `leg`, `agent`, `credential`: flattened into the `websocket:connected` message. */
  parameters: Readonly<Record<string, string>>;
  /** Where the websocket leg's events go. */
  eventUrl: string;
}

/**
 * Connects this leg, alone, to Toneguard's websocket: each leg is its own conversation, so the
 * socket hears only that leg (a websocket in a shared conversation hears the mix). The upgrade
 * carries Vonage's own JWT (`authorization: {type: "vonage"}`), signed like the webhooks.
 */
export function connectWebsocketNcco(options: WebsocketNccoOptions): unknown[] {
  return [
    {
      action: 'connect',
      eventUrl: [options.eventUrl],
      endpoint: [
        {
          type: 'websocket',
          uri: options.streamUrl,
          'content-type': vonageContentType(options.rate),
          headers: { ...options.parameters, [CALL_HEADER]: options.callUuid },
          authorization: { type: 'vonage' },
        },
      ],
    },
  ];
}

/** An empty NCCO: Vonage has nothing to do and ends the call. */
export const hangupNcco = (): unknown[] => [];
