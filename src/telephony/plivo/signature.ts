import { createHmac, timingSafeEqual } from 'node:crypto';

/** Webhook parameters as Plivo posts them: a repeated key carries several values. */
export type PlivoParams = Readonly<Record<string, string | readonly string[]>>;

export const SIGNATURE_HEADER = 'x-plivo-signature-v3';
export const NONCE_HEADER = 'x-plivo-signature-v3-nonce';

const URI = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?/;

const valuesOf = (value: string | readonly string[]): readonly string[] => (typeof value === 'string' ? [value] : value);

/** Keys sorted, each key's values sorted, as `k=v&k=v` (the query part of the signed URL). */
function sortedQuery(params: Map<string, string[]>): string {
  const pairs: string[] = [];
  for (const key of [...params.keys()].sort()) for (const value of [...(params.get(key) ?? [])].sort()) pairs.push(`${key}=${value}`);
  return pairs.join('&');
}

/** Keys sorted, each key's values sorted, as `kvkv` with no separators (the body part of a signed POST). */
function sortedBody(params: PlivoParams): string {
  let out = '';
  for (const key of Object.keys(params).sort()) for (const value of [...valuesOf(params[key])].sort()) out += key + value;
  return out;
}

/**
 * The string Plivo's V3 scheme signs (before `.{nonce}`), as the official SDKs build it
 * (plivo-node `lib/utils/v3Security.js`, plivo-python `signature_v3.py`): scheme, host and path
 * of the URL as given; its query decoded, sorted, and re-joined; for a GET the params join the
 * query, for a POST they follow as sorted `key+value`, after `?` (or after the query and `.`).
 */
export function plivoSignedUrl(method: 'GET' | 'POST', uri: string, params: PlivoParams): string {
  const parts = URI.exec(uri);
  if (!parts) return uri;
  const [, scheme, authority, path, query = ''] = parts;
  const base = `${scheme}://${authority}${path}`;
  const merged = new Map<string, string[]>();
  for (const [key, value] of new URLSearchParams(query)) merged.set(key, [...(merged.get(key) ?? []), value]);
  if (method === 'GET') {
    for (const [key, value] of Object.entries(params)) merged.set(key, [...(merged.get(key) ?? []), ...valuesOf(value)]);
    const q = sortedQuery(merged);
    return q ? `${base}?${q}` : base;
  }
  const q = sortedQuery(merged);
  const hasBody = Object.keys(params).length > 0;
  let url = base;
  if (q || hasBody) url += `?${q}`;
  if (q && hasBody) url += '.';
  return url + sortedBody(params);
}

/** `base64(HMAC-SHA256(authToken, signedUrl + '.' + nonce))`. */
export function plivoV3Signature(authToken: string, method: 'GET' | 'POST', uri: string, params: PlivoParams, nonce: string): string {
  return createHmac('sha256', authToken).update(`${plivoSignedUrl(method, uri, params)}.${nonce}`).digest('base64');
}

export interface PlivoSignedRequest {
  method: 'GET' | 'POST';
  /** The public URL Plivo requested (never built from the Host header). */
  url: string;
  params: PlivoParams;
  /** `X-Plivo-Signature-V3`: one signature, or several separated by commas. */
  signature: string | undefined;
  nonce: string | undefined;
}

/** True when any of the header's signatures is the one `authToken` gives for the request (compared in constant time). */
export function plivoSignatureValid(authToken: string, request: PlivoSignedRequest): boolean {
  const { signature, nonce } = request;
  if (!authToken || !signature || !nonce) return false;
  const expected = Buffer.from(plivoV3Signature(authToken, request.method, request.url, request.params, nonce));
  return signature.split(',').some((candidate) => {
    const given = Buffer.from(candidate.trim());
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
