import { z } from 'zod';

/** Vonage call uuids are UUIDs (some older ones are 32 hex digits). */
export const callUuid = z.string().regex(/^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/);

/** The answer webhook (GET query by default, or a POSTed JSON body): the call to answer and its numbers. */
const answer = z.object({
  uuid: callUuid,
  conversation_uuid: z.string().max(128).optional(),
  from: z.string().max(256).optional(),
  to: z.string().max(256).optional(),
});

/** The event webhook: a call's status changed. Unknown fields are ignored. */
const event = z.object({
  uuid: callUuid,
  status: z.string().max(32).optional(),
  conversation_uuid: z.string().max(128).optional(),
});

export interface VonageAnswer {
  uuid: string;
  from?: string;
  to?: string;
}

/** Statuses after which the call is gone. */
const ENDED = new Set(['completed', 'failed', 'rejected', 'busy', 'cancelled', 'timeout', 'unanswered', 'disconnected']);

export function parseVonageAnswer(fields: unknown): VonageAnswer | null {
  const parsed = answer.safeParse(fields);
  return parsed.success ? { uuid: parsed.data.uuid, from: parsed.data.from, to: parsed.data.to } : null;
}

/** The call uuid an event reports ended, or null (another status, or not an event). */
export function endedCallOf(fields: unknown): { uuid: string; status: string } | null {
  const parsed = event.safeParse(fields);
  return parsed.success && parsed.data.status && ENDED.has(parsed.data.status) ? { uuid: parsed.data.uuid, status: parsed.data.status } : null;
}
