import type { IncomingMessage } from 'node:http';
import { agentIdentity, mediaPath, type ProviderContext, type TelephonyProvider } from '../provider.js';
import { signatureRefused } from '../signature-check.js';
import { upgradeTokenKey } from '../upgrade-tokens.js';
import { telnyxWire } from './media.js';
import { createTelnyxCallControl, type TelnyxCallControl } from './rest-client.js';
import { telnyxVoiceRouter, TELNYX_WEBHOOK_PATH } from './routes.js';
import { STREAM_CALL_PARAM, TelnyxStreamTokens } from './stream-token.js';

export { TELNYX_WEBHOOK_PATH } from './routes.js';
export { telnyxEnabled, TELNYX_ENV, telnyxSettingsSchema, type TelnyxSettings } from './settings.js';

/** The leg a media upgrade names (`?call=`) and the token it presents. */
function upgradeClaim(req: IncomingMessage): { callControlId?: string; token?: string } {
  const query = new URL(req.url ?? '/', 'http://upgrade.invalid').searchParams;
  const token = req.headers['x-telnyx-streaming-auth-token'];
  return { callControlId: query.get(STREAM_CALL_PARAM) ?? undefined, token: typeof token === 'string' ? token : undefined };
}

/**
 * Telnyx on the seam: Call Control commands (answer, streaming_start with `rtp`, dial, hangup),
 * Ed25519-signed webhooks, media sockets whose upgrade carries the leg's
 * `x-telnyx-streaming-auth-token`, JSON frames reordered by sequence number.
 */
export function createTelnyxProvider(ctx: ProviderContext, rest: TelnyxCallControl = createTelnyxCallControl(ctx.config.telnyx), tokens = new TelnyxStreamTokens(upgradeTokenKey(ctx.config, 'telnyx'))): TelephonyProvider {
  const settings = ctx.config.telnyx;
  return {
    name: 'telnyx',
    router: (flow) => telnyxVoiceRouter(ctx, flow, { rest, tokens }),
    verifyUpgrade(req) {
      const claim = upgradeClaim(req);
      if (tokens.verify(claim.callControlId, claim.token)) return true;
      signatureRefused(ctx, 'telnyx', mediaPath('telnyx'), req.socket.remoteAddress, claim.token ? 'invalid' : 'missing');
      return false;
    },
    wire: telnyxWire(settings, ctx.metrics),
    dialer: {
      placeCall: ({ callerCallId, to }) =>
        rest.dial({ connectionId: settings.connectionId, to: settings.agentTarget, from: settings.callerId ?? to ?? '', callerCallId }),
    },
    agentId: agentIdentity(settings.agentTarget),
    handledCallRetentionDays: settings.handledCallRetentionDays,
  };
}

/** The path Telnyx's Call Control application posts its webhooks to (set it in the portal). */
export const TELNYX_PATHS = { webhook: TELNYX_WEBHOOK_PATH, media: mediaPath('telnyx') } as const;
