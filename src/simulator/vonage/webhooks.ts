import type { VonageSigner } from './signer.js';

export interface VonageTarget {
  /** Where the service listens (e.g. `http://127.0.0.1:8080`). */
  baseUrl: string;
  signer: VonageSigner;
}

/**
 * Fetches an answer webhook as Vonage does: a GET with the call in the query, signed over the
 * JSON of the query parameters. `pathAndQuery` may be a full URL (an `answer_url` we were given).
 * `authorization` overrides the signature (forgery tests; null sends none).
 */
export async function getVonageAnswer(
  target: VonageTarget,
  pathAndQuery: string,
  fields: Record<string, string>,
  authorization?: string | null,
): Promise<{ status: number; body: string; ncco: unknown }> {
  const url = new URL(pathAndQuery, 'http://service.invalid');
  for (const [name, value] of Object.entries(fields)) url.searchParams.set(name, value);
  const query = Object.fromEntries(url.searchParams);
  const header = authorization === undefined ? await target.signer.authorization(JSON.stringify(query)) : authorization;
  const response = await fetch(target.baseUrl.replace(/\/$/, '') + url.pathname + url.search, { headers: header === null ? {} : { authorization: header } });
  const body = await response.text();
  let ncco: unknown;
  try {
    ncco = JSON.parse(body);
  } catch {
    ncco = undefined;
  }
  return { status: response.status, body, ncco };
}

/** POSTs an event webhook (JSON) as Vonage does, signed over the body. */
export async function postVonageEvent(target: VonageTarget, path: string, event: Record<string, unknown>, authorization?: string | null): Promise<{ status: number; body: string }> {
  const body = JSON.stringify(event);
  const header = authorization === undefined ? await target.signer.authorization(body) : authorization;
  const response = await fetch(target.baseUrl.replace(/\/$/, '') + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(header === null ? {} : { authorization: header }) },
    body,
  });
  return { status: response.status, body: await response.text() };
}

export interface WebsocketInstruction {
  uri: string;
  contentType: string;
  headers: Record<string, string>;
  authorization?: { type: string; value?: string };
}

/** Reads the websocket endpoint out of our NCCO (the simulator plays Vonage's part). */
export function websocketOf(ncco: unknown): WebsocketInstruction | undefined {
  if (!Array.isArray(ncco)) return undefined;
  for (const action of ncco as { action?: string; endpoint?: Record<string, unknown>[] }[]) {
    const endpoint = action.action === 'connect' ? action.endpoint?.find((e) => e.type === 'websocket') : undefined;
    if (endpoint && typeof endpoint.uri === 'string') {
      return {
        uri: endpoint.uri,
        contentType: String(endpoint['content-type'] ?? ''),
        headers: (endpoint.headers ?? {}) as Record<string, string>,
        authorization: endpoint.authorization as WebsocketInstruction['authorization'],
      };
    }
  }
  return undefined;
}
