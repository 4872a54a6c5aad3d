import { z } from 'zod';

/** Telnyx's call control ids look like `v3:T02llQxIyaRk…`: letters, digits, `:`, `_`, `-`. */
export const callControlId = z.string().regex(/^[A-Za-z0-9:_-]{1,256}$/);

const payload = z.object({
  call_control_id: callControlId,
  call_leg_id: z.string().max(128).optional(),
  call_session_id: z.string().max(128).optional(),
  connection_id: z.string().max(128).optional(),
  client_state: z.string().max(4096).nullable().optional(),
  from: z.string().max(256).optional(),
  to: z.string().max(256).optional(),
  direction: z.string().max(32).optional(),
  state: z.string().max(32).optional(),
  hangup_cause: z.string().max(64).optional(),
});

/** A Call Control webhook (`{"data":{"event_type", "payload":{…}}}`); unknown fields are ignored. */
const webhook = z.object({
  data: z.object({
    event_type: z.string().max(64),
    id: z.string().max(128).optional(),
    occurred_at: z.string().max(64).optional(),
    payload,
  }),
});

export interface TelnyxCallEvent {
  eventType: string;
  callControlId: string;
  direction?: string;
  from?: string;
  to?: string;
  /** Decoded `client_state` (Toneguard writes base64 of JSON there on the agent's call). */
  clientState?: unknown;
}

/** The events that end a leg (the call hung up, or its stream could not be kept). */
export const ENDING_EVENTS = new Set(['call.hangup', 'streaming.failed', 'streaming.stopped']);

function decodeClientState(value: string | null | undefined): unknown {
  if (!value) return undefined;
  try {
    return JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Parses one webhook body (the raw text the signature covered). Null when it is not a usable call event. */
export function parseTelnyxWebhook(rawBody: string): TelnyxCallEvent | null {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    return null;
  }
  const parsed = webhook.safeParse(json);
  if (!parsed.success) return null;
  const { event_type, payload: p } = parsed.data.data;
  return {
    eventType: event_type,
    callControlId: p.call_control_id,
    direction: p.direction,
    from: p.from,
    to: p.to,
    clientState: decodeClientState(p.client_state),
  };
}

/** `client_state` is base64 on the wire. */
export const encodeClientState = (state: unknown): string => Buffer.from(JSON.stringify(state)).toString('base64');
