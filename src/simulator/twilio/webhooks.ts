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
}

/** Reads the `<Connect><Stream>` out of our TwiML or cXML (the simulator plays the platform's part). */
export function parseStreamTwiml(twiml: string): StreamInstruction | undefined {
  const stream = /<Connect>\s*<Stream\b([^>]*)>/.exec(twiml);
  const attributes: Record<string, string> = {};
  for (const match of (stream?.[1] ?? '').matchAll(/\b(\w+)="([^"]*)"/g)) attributes[match[1]] = match[2];
  if (!attributes.url) return undefined;
  const parameters: Record<string, string> = {};
  for (const match of twiml.matchAll(/<Parameter name="([^"]*)" value="([^"]*)"\/>/g)) parameters[match[1]] = match[2];
  return { url: attributes.url, parameters, attributes };
}
