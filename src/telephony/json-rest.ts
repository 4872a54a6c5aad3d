import { ToneguardError } from '../errors.js';

export interface JsonRequest {
  /** Names the provider in errors (`Plivo REST Call answered 500`). */
  provider: string;
  /** What the request does, for errors: a fixed word, never a value from the request. */
  operation: string;
  method: 'POST' | 'PUT' | 'DELETE';
  url: string;
  authorization: string;
  body?: unknown;
  /** Statuses that mean "already so" (e.g. 404 on hanging up a call that has ended): resolve to undefined. */
  alsoFine?: readonly number[];
  timeoutMs?: number;
}

/**
 * One JSON request to a provider's REST API. Resolves to the parsed answer (undefined for an
 * empty one); any other non-2xx status throws `provider_api_error` with the status only, never
 * the body (which may echo numbers).
 */
export async function jsonRequest(request: JsonRequest): Promise<Record<string, unknown> | undefined> {
  const response = await fetch(request.url, {
    method: request.method,
    headers: {
      authorization: request.authorization,
      accept: 'application/json',
      ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: request.body === undefined ? undefined : JSON.stringify(request.body),
    signal: AbortSignal.timeout(request.timeoutMs ?? 10_000),
  });
  if (!response.ok) {
    await response.body?.cancel();
    if (request.alsoFine?.includes(response.status)) return undefined;
    throw new ToneguardError('provider_api_error', `${request.provider} REST ${request.operation} answered ${response.status}`, 502);
  }
  const text = await response.text();
  if (!text) return undefined;
  try {
    const json: unknown = JSON.parse(text);
    return typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : {};
  } catch {
    throw new ToneguardError('provider_api_error', `${request.provider} REST ${request.operation} answered with something other than JSON`, 502);
  }
}

export const basicAuthorization = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
