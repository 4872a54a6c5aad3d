import { randomBytes } from 'node:crypto';
import { agentIdentity } from '../../telephony/provider.js';
import type { PlayerKit, PlayerStandIn } from '../player.js';
import { TelnyxSimulatedCall } from './call.js';
import { startTelnyxRestStandIn, type TelnyxRestStandIn } from './rest-stand-in.js';
import { TelnyxSigner } from './signer.js';

/** The stand-in and the key pair the played webhooks are signed with: the demo service is configured with its public half. */
export function telnyxPlayerStandIn(standIn: TelnyxRestStandIn, signer = new TelnyxSigner()): PlayerStandIn {
  return {
    url: standIn.url,
    demoSettings: () => ({
      telnyx: { apiKey: `KEY${randomBytes(16).toString('hex').toUpperCase()}`, publicKey: signer.publicKey, connectionId: String(1_000_000_000 + randomBytes(3).readUIntBE(0, 3)), apiBaseUrl: standIn.url, agentTarget: 'sip:demo-agent@toneguard.invalid' },
    }),
    player: ({ baseUrl }) => ({ name: 'telnyx', dial: (request = {}) => TelnyxSimulatedCall.dial({ ...request, target: { baseUrl, signer }, standIn }) }),
    close: () => standIn.close(),
  };
}

/**
 * Telnyx: Ed25519-signed Call Control webhooks, media streams over `ws`, the Call Control API on a
 * local stand-in. Only the demo (and tests) can play it: webhooks are signed with a private key
 * the simulator makes, whose public half the service must be configured with.
 */
export const telnyxKit: PlayerKit = {
  name: 'telnyx',
  startStandIn: async (port) => telnyxPlayerStandIn(await startTelnyxRestStandIn(port)),
  apiBaseUrl: (config) => config.telnyx.apiBaseUrl,
  apiBaseVariable: 'TELNYX_API_BASE_URL',
  configured: (config) => config.telnyx.apiKey !== '' && config.telnyx.publicKey !== '' && config.telnyx.connectionId !== '',
  agentId: (config) => agentIdentity(config.telnyx.agentTarget),
};
