import { randomInt } from 'node:crypto';
import { NONCE_HEADER, plivoV3Signature, SIGNATURE_HEADER } from '../../telephony/plivo/signature.js';
import { decodeExtraHeaders } from '../../telephony/plivo/xml.js';

export interface PlivoTarget {
  /** Where the service listens (e.g. `http://127.0.0.1:8080`). */
  baseUrl: string;
  /** The service's configured public URL, which Plivo signs over. */
  publicUrl: string;
  authToken: string;
}

/** A fresh V3 nonce: Plivo sends a string of digits. */
export const plivoNonce = () => Array.from({ length: 20 }, () => randomInt(10)).join('');

/** The path and query of `pathOrUrl` under the service's public URL (a full public URL or a path). */
export function pathUnder(publicUrl: string, pathOrUrl: string): string {
  const base = publicUrl.replace(/\/$/, '');
  return pathOrUrl.startsWith(base) ? pathOrUrl.slice(base.length) : pathOrUrl;
}

/**
 * POSTs a form webhook as Plivo does: `X-Plivo-Signature-V3` (and its `-Ma-` twin, the same
 * token here) over the public URL and the params, with a fresh nonce. `signature` overrides it
 * (forgery tests); null sends none.
 */
export async function postPlivoWebhook(target: PlivoTarget, pathOrUrl: string, params: Record<string, string>, signature?: string | null): Promise<{ status: number; body: string }> {
  const path = pathUnder(target.publicUrl, pathOrUrl);
  const nonce = plivoNonce();
  const signed = signature === undefined ? plivoV3Signature(target.authToken, 'POST', target.publicUrl.replace(/\/$/, '') + path, params, nonce) : signature;
  const response = await fetch(target.baseUrl.replace(/\/$/, '') + path, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(signed === null ? {} : { [SIGNATURE_HEADER]: signed, 'x-plivo-signature-ma-v3': signed, [NONCE_HEADER]: nonce }),
    },
    body: new URLSearchParams(params),
  });
  return { status: response.status, body: await response.text() };
}

export interface PlivoStreamInstruction {
  url: string;
  contentType: string;
  /** The `extraHeaders` attribute as written. */
  extraHeaders: string;
  parameters: Record<string, string>;
}

const unescape = (value: string) => value.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** Reads the `<Stream>` out of our XML (the simulator plays Plivo's part). */
export function parseStreamXml(xml: string): PlivoStreamInstruction | undefined {
  const stream = /<Stream\b([^>]*)>([^<]+)<\/Stream>/.exec(xml);
  if (!stream) return undefined;
  const attributes = Object.fromEntries([...stream[1].matchAll(/(\w+)="([^"]*)"/g)].map(([, name, value]) => [name, unescape(value)]));
  if (attributes.bidirectional !== 'true' || attributes.keepCallAlive !== 'true') return undefined;
  const extraHeaders = attributes.extraHeaders ?? '';
  return { url: unescape(stream[2].trim()), contentType: attributes.contentType ?? 'audio/x-l16;rate=8000', extraHeaders, parameters: decodeExtraHeaders(extraHeaders) };
}
