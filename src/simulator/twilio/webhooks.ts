import twilio from 'twilio';

export interface TwilioTarget {
  /** Where the service listens (e.g. `http://127.0.0.1:8080`). */
  baseUrl: string;
  /** The service's configured public URL, which Twilio signs over. */
  publicUrl: string;
  authToken: string;
}

export function signTwilio(authToken: string, url: string, params: Record<string, string>): string {
  return twilio.getExpectedTwilioSignature(authToken, url, params);
}

/** How a Twilio-compatible platform signs its form webhooks (SignalWire: its own header and token). */
export interface WebhookSigning {
  signatureHeader: string;
  sign: (authToken: string, url: string, params: Record<string, string>) => string;
}

export const TWILIO_SIGNING: WebhookSigning = { signatureHeader: 'x-twilio-signature', sign: signTwilio };

/** POSTs a form webhook as Twilio would: signed over the public URL. `pathAndQuery` may be a full public URL. */
export async function postTwilioWebhook(
  target: TwilioTarget,
  pathAndQuery: string,
  params: Record<string, string>,
  signature?: string,
  signing: WebhookSigning = TWILIO_SIGNING,
): Promise<{ status: number; body: string }> {
  const publicBase = target.publicUrl.replace(/\/$/, '');
  const path = pathAndQuery.startsWith(publicBase) ? pathAndQuery.slice(publicBase.length) : pathAndQuery;
  const response = await fetch(target.baseUrl.replace(/\/$/, '') + path, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      [signing.signatureHeader]: signature ?? signing.sign(target.authToken, publicBase + path, params),
    },
    body: new URLSearchParams(params),
  });
  return { status: response.status, body: await response.text() };
}

export interface StreamInstruction {
  url: string;
  parameters: Record<string, string>;
  /** The `<Stream>` element's attributes (SignalWire's `authBearerToken`, `codec`, …). */
  attributes: Record<string, string>;
  /** The `<Connect action>` URL, requested when the stream ends (cluster mode). */
  action?: string;
}

/** XML attribute values as the document meant them (`&amp;` in an action URL's query, …). */
const unescapeXml = (value: string) =>
  value.replace(/&(?:#(\d+)|amp|lt|gt|quot|apos);/g, (entity, code: string | undefined) =>
    code ? String.fromCharCode(Number(code)) : ({ '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&apos;': "'" } as Record<string, string>)[entity],
  );

const attributesOf = (text: string) => {
  const attributes: Record<string, string> = {};
  for (const match of text.matchAll(/\b(\w+)="([^"]*)"/g)) attributes[match[1]] = unescapeXml(match[2]);
  return attributes;
};

/** Reads the `<Connect><Stream>` out of our TwiML or cXML (the simulator plays the platform's part). */
export function parseStreamTwiml(twiml: string): StreamInstruction | undefined {
  const stream = /<Connect\b([^>]*)>\s*<Stream\b([^>]*)>/.exec(twiml);
  const attributes = attributesOf(stream?.[2] ?? '');
  if (!attributes.url) return undefined;
  const parameters: Record<string, string> = {};
  for (const match of twiml.matchAll(/<Parameter name="([^"]*)" value="([^"]*)"\/>/g)) parameters[unescapeXml(match[1])] = unescapeXml(match[2]);
  const action = attributesOf(stream?.[1] ?? '').action;
  return { url: attributes.url, parameters, attributes, ...(action ? { action } : {}) };
}
