import type { MediaService } from '../../../media/service.js';
import type { LegInput, LegOutput, LegRole } from '../../../media/types.js';

/**
 * The relay's only contact with the media service (the bridge that masks the caller's audio,
 * records both sides and feeds the capture engine): everything else in the relay speaks RTP.
 */
export interface RelayMedia {
  /** Joins a leg of a registered call to its bridge; a reason code when it cannot. */
  attach(callId: string, leg: LegRole, output: LegOutput): { input: LegInput } | { reason: string };
  /** Ends the call's bridge (and its capture and recording). */
  end(callId: string, reason: string): void;
}

export function relayMedia(service: Pick<MediaService, 'attachTrusted' | 'endCall'>): RelayMedia {
  return {
    attach: (callId, leg, output) => service.attachTrusted(callId, leg, output),
    end: (callId, reason) => service.endCall(callId, reason),
  };
}
