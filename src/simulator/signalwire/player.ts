import { randomBytes, randomUUID } from 'node:crypto';
import { signalWireAgentTarget, signalWireConfigured } from '../../telephony/signalwire/index.js';
import { agentIdentity } from '../../telephony/provider.js';
import type { PlayerKit, PlayerStandIn } from '../player.js';
import type { CallDialect } from '../twilio/call.js';
import { twilioFormatPlayer } from '../twilio/player.js';
import { startTwilioRestStandIn, type TwilioRestStandIn } from '../twilio/rest-stand-in.js';
import { signTwilio } from '../twilio/webhooks.js';

/**
 * SignalWire's side of a call: its webhooks signed with the signing key (Twilio's algorithm, sent
 * as `X-SignalWire-Signature`; the service checks them with SignalWire's own SDK), its media
 * upgrade carrying the cXML's `authBearerToken`, UUID call ids, and Twilio-format stream messages.
 */
export const SIGNALWIRE_CALL_DIALECT: CallDialect = {
  inboundPath: '/signalwire/voice/inbound',
  callStatusPath: '/signalwire/status/call',
  stream: {
    path: '/media/signalwire',
    signatureHeader: 'x-signalwire-signature',
    sign: signTwilio,
    upgradeHeaders: (instruction) => ({ authorization: `Bearer ${instruction.attributes.authBearerToken ?? ''}` }),
  },
  newCallSid: () => randomUUID(),
};

/** The Compatibility REST API's stand-in: Twilio's, answering with UUID call ids under `{space}/api/laml`. */
export function signalWirePlayerStandIn(standIn: TwilioRestStandIn): PlayerStandIn {
  return {
    url: standIn.url,
    demoSettings: () => ({
      signalwire: { projectId: randomUUID(), apiToken: `PT${randomBytes(24).toString('hex')}`, signingKey: `PSK_${randomBytes(24).toString('hex')}`, spaceUrl: standIn.url, agentTarget: 'client:demo-agent' },
    }),
    player: ({ baseUrl, config }) =>
      twilioFormatPlayer('signalwire', { baseUrl, publicUrl: config.publicUrl, authToken: config.signalwire.signingKey }, config.signalwire.projectId, standIn, SIGNALWIRE_CALL_DIALECT),
    close: () => standIn.close(),
  };
}

export const signalWireKit: PlayerKit = {
  name: 'signalwire',
  startStandIn: async (port) => signalWirePlayerStandIn(await startTwilioRestStandIn(port, randomUUID)),
  apiBaseUrl: (config) => config.signalwire.spaceUrl,
  apiBaseVariable: 'SIGNALWIRE_SPACE_URL',
  configured: signalWireConfigured,
  agentId: (config) => agentIdentity(signalWireAgentTarget(config)),
};
