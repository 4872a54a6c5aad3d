import { randomUUID } from 'node:crypto';
import type { TelnyxSigner } from './signer.js';

export interface TelnyxTarget {
  /** Where the service listens (e.g. `http://127.0.0.1:8080`). */
  baseUrl: string;
  signer: TelnyxSigner;
}

export interface TelnyxCallPayload {
  call_control_id: string;
  from?: string;
  to?: string;
  direction?: 'incoming' | 'outgoing';
  client_state?: string | null;
  [field: string]: unknown;
}

/** A Call Control webhook envelope as Telnyx posts it. */
export function telnyxEvent(eventType: string, payload: TelnyxCallPayload): Record<string, unknown> {
  return {
    data: {
      record_type: 'event',
      event_type: eventType,
      id: randomUUID(),
      occurred_at: new Date().toISOString(),
      payload: { connection_id: '1684641123236054244', call_leg_id: randomUUID(), call_session_id: randomUUID(), state: 'parked', ...payload },
    },
    meta: { attempt: 1, delivered_to: 'toneguard' },
  };
}

/** POSTs a webhook signed as Telnyx signs it; `headers` overrides them (forgery tests). */
export async function postTelnyxWebhook(
  target: TelnyxTarget,
  path: string,
  event: Record<string, unknown>,
  headers?: Record<string, string>,
): Promise<{ status: number; body: string }> {
  const body = JSON.stringify(event);
  const response = await fetch(target.baseUrl.replace(/\/$/, '') + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(headers ?? target.signer.headers(body)) },
    body,
  });
  return { status: response.status, body: await response.text() };
}
