import { randomBytes } from 'node:crypto';
import { agentIdentity } from '../../telephony/provider.js';
import type { PlayerKit, PlayerStandIn, ProviderPlayer } from '../player.js';
import { SimulatedCall, type CallDialect } from './call.js';
import { randomSid, startTwilioRestStandIn, type TwilioRestStandIn } from './rest-stand-in.js';
import type { TwilioTarget } from './webhooks.js';

/** Plays Twilio-format calls (Twilio itself, or a Twilio-compatible platform's dialect) into a service. */
export function twilioFormatPlayer(name: string, target: TwilioTarget, accountSid: string, standIn: TwilioRestStandIn, dialect?: CallDialect): ProviderPlayer {
  return {
    name,
    dial: (request = {}) => SimulatedCall.dial({ target, accountSid, standIn, ...request, ...(dialect ? { dialect } : {}) }),
  };
}

/** Twilio's stand-in as a player's: it also answers the Messages API, so caller verification can read its codes. */
export function twilioPlayerStandIn(standIn: TwilioRestStandIn): PlayerStandIn {
  return {
    url: standIn.url,
    messages: standIn,
    demoSettings: () => ({ twilio: { accountSid: randomSid('AC'), authToken: randomBytes(16).toString('hex'), apiBaseUrl: standIn.url, agentTarget: 'client:demo-agent' } }),
    player: ({ baseUrl, config }) => twilioFormatPlayer('twilio', { baseUrl, publicUrl: config.publicUrl, authToken: config.twilio.authToken }, config.twilio.accountSid, standIn),
    close: () => standIn.close(),
  };
}

/** Twilio: `X-Twilio-Signature`, Media Streams, the REST API's `Calls.json` on a local stand-in. */
export const twilioKit: PlayerKit = {
  name: 'twilio',
  startStandIn: async (port) => twilioPlayerStandIn(await startTwilioRestStandIn(port)),
  apiBaseUrl: (config) => config.twilio.apiBaseUrl,
  apiBaseVariable: 'TWILIO_API_BASE_URL',
  configured: (config) => config.twilio.accountSid !== '' && config.twilio.authToken !== '',
  agentId: (config) => agentIdentity(config.twilio.agentTarget),
};
