import type { ProviderContext, TelephonyProvider } from '../provider.js';
import { agentIdentity } from '../provider.js';
import { createTwilioRestClient, twilioAgentDialer, type TwilioRestClient } from './rest-client.js';
import { twilioVoiceRouter, VOICE_PATHS } from './routes.js';
import { upgradeSignatureValid } from './signature.js';
import { MEDIA_STREAM_PATH } from './twiml.js';
import { twilioWire } from './wire.js';

export { twilioSignature, upgradeSignatureValid, publicUrlFor, publicWsUrlFor } from './signature.js';
export { twilioFormPost, createTwilioRestClient, type TwilioRestClient, type CreateCallRequest } from './rest-client.js';
export { connectStreamTwiml, MEDIA_STREAM_PATH } from './twiml.js';
export { VOICE_PATHS } from './routes.js';

/** Twilio on the seam: TwiML `<Connect><Stream>`, `X-Twilio-Signature`, Media Streams JSON with base64 μ-law. */
export function createTwilioProvider(ctx: ProviderContext, rest: TwilioRestClient = createTwilioRestClient(ctx.config)): TelephonyProvider {
  return {
    name: 'twilio',
    router: (flow) => twilioVoiceRouter(ctx, flow),
    verifyUpgrade: (req) => upgradeSignatureValid(ctx, req, MEDIA_STREAM_PATH),
    wire: twilioWire,
    dialer: twilioAgentDialer(ctx.config, rest, VOICE_PATHS),
    agentId: agentIdentity(ctx.config.twilio.agentTarget),
    handledCallRetentionDays: ctx.config.twilio.handledCallRetentionDays,
  };
}
