import { decodeAlaw, decodeMulaw, encodeAlaw, encodeMulaw } from '../../../dsp/index.js';
import type { NegotiatedPayloads } from '../relay/types.js';

export type AudioCodec = 'pcmu' | 'pcma';
export type PayloadKind = AudioCodec | 'telephone-event' | 'red';

/** What a payload type carries on a side, from its negotiated payloads; null when it was not negotiated. */
export function payloadKind(payloads: NegotiatedPayloads, pt: number): PayloadKind | null {
  if (pt === payloads.pcmu) return 'pcmu';
  if (pt === payloads.pcma) return 'pcma';
  if (pt === payloads.telephoneEvent) return 'telephone-event';
  if (pt === payloads.redundancy) return 'red';
  return null;
}

export function isAudio(kind: PayloadKind | null): kind is AudioCodec {
  return kind === 'pcmu' || kind === 'pcma';
}

/**
 * The codec to send a side: the one it sends itself, else `preferred` (the other side's, so
 * no transcoding is needed), else PCMU, else PCMA; null when the side negotiated no G.711.
 */
export function sendCodec(payloads: NegotiatedPayloads, heard: AudioCodec | null, preferred: AudioCodec | null): AudioCodec | null {
  for (const codec of [heard, preferred, 'pcmu', 'pcma'] as const) if (codec && payloads[codec] !== undefined) return codec;
  return null;
}

export function decodeG711(codec: AudioCodec, src: Uint8Array, dst: Int16Array): void {
  if (codec === 'pcmu') decodeMulaw(src, dst);
  else decodeAlaw(src, dst);
}

export function encodeG711(codec: AudioCodec, src: Int16Array, dst: Uint8Array): void {
  if (codec === 'pcmu') encodeMulaw(src, dst);
  else encodeAlaw(src, dst);
}
