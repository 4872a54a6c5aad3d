import { createRequire } from 'node:module';
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import type { Config } from '../../config/index.js';
import { ownMediaUrl } from '../call-flow.js';
import { signatureRefused, signedWebhook, type SignatureContext, type SignatureVerdict } from '../signature-check.js';
import { publicUrlFor, publicWsUrlFor, signatureHeader } from '../twilio/signature.js';
import { bearerToken, type UpgradeTokens } from '../upgrade-tokens.js';

type SignalWireSignatureContext = SignatureContext & { config: Pick<Config, 'signalwire' | 'publicUrl'> };
type Validator = (signingKey: string, signature: string, url: string, params: Record<string, string>) => boolean;

let sdkValidator: Validator | undefined;

/**
 * The Compatibility SDK's `RestClient.validateRequest`: Twilio's HMAC-SHA1 over the URL and the
 * sorted form fields, keyed with the signing key, accepting the URL with or without its default
 * port. The SDK is a large bundle (seconds to load on a busy machine), so it is loaded the first
 * time a SignalWire signature is checked, and only services with SignalWire configured pay for it.
 */
function validator(): Validator {
  if (!sdkValidator) {
    // The package's typings do not resolve under its own `exports` map: the one function used is typed here.
    const sdk = createRequire(import.meta.url)('@signalwire/compatibility-api') as { RestClient: { validateRequest: Validator } };
    sdkValidator = (signingKey, signature, url, params) => sdk.RestClient.validateRequest(signingKey, signature, url, params);
  }
  return sdkValidator;
}

/** SignalWire sends `X-SignalWire-Signature`, and `X-Twilio-Signature` for cXML compatibility: either may carry it. */
function signatureOf(req: IncomingMessage): string | undefined {
  return signatureHeader(req, 'x-signalwire-signature') ?? signatureHeader(req, 'x-twilio-signature');
}

function verdict(ctx: SignalWireSignatureContext, signature: string | undefined, url: string, params: Record<string, string>): SignatureVerdict {
  if (signature === undefined) return 'missing';
  return ctx.config.signalwire.signingKey !== '' && validator()(ctx.config.signalwire.signingKey, signature, url, params) ? 'valid' : 'invalid';
}

/** Express middleware checking SignalWire's signature over the public URL and the form body (mount after `express.urlencoded()`). */
export function signalWireSignature(ctx: SignalWireSignatureContext, route: string): RequestHandler {
  return signedWebhook(
    ctx,
    'signalwire',
    route,
    (req) => verdict(ctx, signatureOf(req), publicUrlFor(ctx.config.publicUrl, req.originalUrl), (req.body ?? {}) as Record<string, string>),
    'SignalWire',
  );
}

/**
 * A media upgrade carries the `authBearerToken` of the cXML that started it (`Authorization:
 * Bearer …`, issued by this service, on any node of its cluster, still live). Whether SignalWire
 * also signs the upgrade as Twilio does is not documented; a valid signature over the `wss://`
 * URL of this media node is accepted in its stead.
 */
export function signalWireUpgradeValid(ctx: SignalWireSignatureContext & { config: Pick<Config, 'cluster'> }, req: IncomingMessage, route: string, tokens: UpgradeTokens): boolean {
  const authorization = typeof req.headers.authorization === 'string' ? req.headers.authorization : undefined;
  if (tokens.valid(bearerToken(authorization))) return true;
  const signature = signatureOf(req);
  const result = signature === undefined && authorization !== undefined ? 'invalid' : verdict(ctx, signature, publicWsUrlFor(ownMediaUrl(ctx.config), req.url ?? '/'), {});
  if (result !== 'valid') signatureRefused(ctx, 'signalwire', route, req.socket.remoteAddress, result);
  return result === 'valid';
}
