import { z } from 'zod';
import type { StreamFormat } from '../../media/types.js';
import { jsonObject, numeric, parseTwilioFormat, streamSid, type ParsedTwilioMessage, type StartReader } from '../twilio/media-messages.js';

/** SignalWire's ids are UUIDs (Twilio's are `CA…`/`MZ…`). */
export const signalWireId = z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/);

const start = z.object({
  event: z.literal('start'),
  sequenceNumber: numeric.optional(),
  streamSid: streamSid.optional(),
  start: z.object({
    streamSid: streamSid.optional(),
    accountSid: signalWireId.optional(),
    callSid: signalWireId,
    tracks: z.array(z.string().max(32)).max(4).optional(),
    mediaFormat: z.object({
      encoding: z.enum(['audio/x-mulaw', 'audio/x-L16']),
      sampleRate: z.union([z.literal(8000), z.literal(16000), z.literal(24000)]),
      channels: z.literal(1).optional(),
    }),
    customParameters: z.record(z.string().max(64), z.string().max(256)).default({}),
  }),
});

/** The formats the bridge has a rate for: μ-law at 8 kHz, L16 at 16 kHz (24 kHz is refused). */
function streamFormat(mediaFormat: z.infer<typeof start>['start']['mediaFormat']): StreamFormat | undefined {
  if (mediaFormat.encoding === 'audio/x-mulaw') return mediaFormat.sampleRate === 8000 ? { encoding: 'pcmu', sampleRate: 8000 } : undefined;
  return mediaFormat.sampleRate === 16000 ? { encoding: 'l16', sampleRate: 16000 } : undefined;
}

const signalWireStart: StartReader = (json) => {
  const parsed = start.safeParse(json);
  if (!parsed.success) return 'invalid_message';
  const { callSid, customParameters, mediaFormat } = parsed.data.start;
  const id = parsed.data.streamSid ?? parsed.data.start.streamSid;
  const format = streamFormat(mediaFormat);
  if (!id) return 'invalid_message';
  if (!format) return 'unsupported_format';
  return { callSid, streamSid: id, parameters: customParameters, format };
};

/**
 * One SignalWire stream message: Twilio's events and fields, UUID ids, μ-law or L16. The
 * documentation prints every inbound example inside an envelope whose `rawEvent` holds the
 * Twilio-shaped message; whether the wire carries the envelope is unconfirmed, so both shapes parse.
 */
export function parseSignalWireMessage(text: string): ParsedTwilioMessage {
  const json = jsonObject(text);
  if (typeof json === 'string') return { ok: false, reason: json };
  const raw = (json as { rawEvent?: unknown }).rawEvent;
  const message = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw : json;
  return parseTwilioFormat(message, signalWireStart);
}
