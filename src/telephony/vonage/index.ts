import { readFileSync } from 'node:fs';
import { agentIdentity, mediaPath, type ProviderContext, type TelephonyProvider } from '../provider.js';
import { signatureRefused } from '../signature-check.js';
import { vonageWire } from './media.js';
import { createVonageVoiceClient, type VonageVoiceClient } from './rest-client.js';
import { signatureOptions, VONAGE_PATHS, vonageVoiceRouter } from './routes.js';
import { verifyVonageRequest } from './signature.js';

export { VONAGE_PATHS } from './routes.js';
export { vonageEnabled, VONAGE_ENV, vonageSettingsSchema, type VonageSettings } from './settings.js';

/**
 * Vonage on the seam: NCCO `connect` of each leg, alone, to a websocket (L16 8 or 16 kHz), JWT-signed
 * webhooks, the media upgrade carrying Vonage's own JWT, the Voice API for the agent's call and hangups.
 */
export function createVonageProvider(ctx: ProviderContext, rest?: VonageVoiceClient): TelephonyProvider {
  const settings = ctx.config.vonage;
  const voice = rest ?? createVonageVoiceClient(settings, readFileSync(settings.privateKeyFile, 'utf8'));
  const now = () => Math.floor(Date.now() / 1000);
  const base = ctx.config.publicUrl.replace(/\/$/, '');
  return {
    name: 'vonage',
    router: (flow) => vonageVoiceRouter(ctx, flow, { rest: voice }),
    verifyUpgrade(req) {
      const check = verifyVonageRequest(req.headers.authorization, [], signatureOptions(settings, now));
      if (check.ok) return true;
      signatureRefused(ctx, 'vonage', mediaPath('vonage'), req.socket.remoteAddress, check.reason === 'missing' ? 'missing' : 'invalid');
      return false;
    },
    wire: vonageWire,
    dialer: {
      placeCall: ({ callerCallId, to }) =>
        voice.createCall({
          to: settings.agentTarget,
          from: settings.callerId ?? to ?? '',
          answerUrl: `${base}${VONAGE_PATHS.agent}?call=${encodeURIComponent(callerCallId)}`,
          eventUrl: `${base}${VONAGE_PATHS.event}`,
        }),
    },
    agentId: agentIdentity(settings.agentTarget),
    handledCallRetentionDays: settings.handledCallRetentionDays,
  };
}
