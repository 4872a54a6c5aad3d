import type { Config } from '../../config/index.js';
import { agentIdentity, type ProviderContext, type TelephonyProvider } from '../provider.js';
import { createTwilioRestClient, twilioAgentDialer } from '../twilio/rest-client.js';
import { twilioFormatVoiceRouter, voicePaths } from '../twilio/routes.js';
import { twilioFormatWire } from '../twilio/wire.js';
import { upgradeTokenKey, UpgradeTokens } from '../upgrade-tokens.js';
import { connectStreamCxml, SIGNALWIRE_MEDIA_PATH } from './cxml.js';
import { parseSignalWireMessage, signalWireId } from './media-messages.js';
import { signalWireSignature, signalWireUpgradeValid } from './signature.js';

export const SIGNALWIRE_PATHS = voicePaths('signalwire');
/** 200 ms of L16 at 16 kHz: the longest frame in any format SignalWire streams here. */
const MAX_FRAME_BYTES = 6400;

/** SignalWire's streams: Twilio's messages with UUID ids, μ-law at 8 kHz or L16 at 16 kHz. */
export const SIGNALWIRE_WIRE = twilioFormatWire({ parse: parseSignalWireMessage, maxFrameBytes: MAX_FRAME_BYTES });

/** SignalWire is mounted once its project, API token and signing key are set. */
export const signalWireConfigured = (config: Pick<Config, 'signalwire'>): boolean =>
  config.signalwire.projectId !== '' && config.signalwire.apiToken !== '' && config.signalwire.signingKey !== '';

/** The agent target SignalWire dials: its own, or the one Twilio's agent calls use. */
export const signalWireAgentTarget = (config: Pick<Config, 'signalwire' | 'twilio'>): string => config.signalwire.agentTarget ?? config.twilio.agentTarget;

/**
 * The Compatibility REST API is Twilio's (`/2010-04-01/Accounts/{ProjectID}/Calls.json`) under
 * `{space}/api/laml`, with HTTP Basic `ProjectID:APIToken`.
 */
function signalWireRest(config: Pick<Config, 'signalwire'>) {
  const { projectId, apiToken, spaceUrl } = config.signalwire;
  return createTwilioRestClient({ twilio: { accountSid: projectId, authToken: apiToken, apiBaseUrl: `${spaceUrl.replace(/\/$/, '')}/api/laml` } });
}

/** SignalWire on the seam: cXML `<Connect><Stream>`, `X-SignalWire-Signature`, Twilio-format streams in PCMU or L16@16000h. */
export function createSignalWireProvider(ctx: ProviderContext): TelephonyProvider {
  const { config } = ctx;
  const target = signalWireAgentTarget(config);
  const tokens = new UpgradeTokens(config.media.streamCredentialTtlMs, upgradeTokenKey(config, 'signalwire'));
  const dialerConfig = { publicUrl: config.publicUrl, twilio: { ...config.twilio, agentTarget: target, callerId: config.signalwire.callerId } };
  return {
    name: 'signalwire',
    router: (flow) =>
      twilioFormatVoiceRouter(ctx, flow, {
        displayName: 'SignalWire',
        paths: SIGNALWIRE_PATHS,
        callId: signalWireId,
        signature: (route) => signalWireSignature(ctx, route),
        streamDocument: ({ parameters, mediaUrl, action }, statusCallback) =>
          connectStreamCxml({ publicUrl: mediaUrl, parameters, statusCallback, action, bearerToken: tokens.issue(), codec: config.signalwire.codec }),
      }),
    verifyUpgrade: (req) => signalWireUpgradeValid(ctx, req, SIGNALWIRE_MEDIA_PATH, tokens),
    wire: SIGNALWIRE_WIRE,
    dialer: twilioAgentDialer(dialerConfig, signalWireRest(config), SIGNALWIRE_PATHS),
    agentId: agentIdentity(target),
    handledCallRetentionDays: config.signalwire.handledCallRetentionDays,
  };
}
