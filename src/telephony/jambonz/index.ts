import type { IncomingMessage } from 'node:http';
import type { AgentDialer, ProviderContext, TelephonyProvider } from '../provider.js';
import { mediaPath } from '../provider.js';
import { signatureRefused } from '../signature-check.js';
import { publicUrlFor } from '../twilio/signature.js';
import { createJambonzRestClient, jambonzTarget, type JambonzRestClient } from './rest-client.js';
import { JAMBONZ_PATHS, jambonzRouter, jambonzValidationOff } from './routes.js';
import { jambonzWire } from './wire.js';
import { JAMBONZ_SUBPROTOCOL, jambonzWsCredentials, wsAuthValid } from './ws-auth.js';

export { JAMBONZ_PATHS } from './routes.js';
export { jambonzEnabled } from './settings.js';

/** The agent's call as jambonz places it: its call hook names the customer call, its status hook reports the end. */
export function jambonzAgentDialer(config: ProviderContext['config'], rest: JambonzRestClient): AgentDialer {
  return {
    placeCall: async ({ callerCallId, to }) => {
      if (!config.jambonz.agentTarget) throw new Error('jambonz.agentTarget (JAMBONZ_AGENT_TARGET) is not set');
      return rest.createCall({
        from: config.jambonz.callerId ?? to ?? 'toneguard',
        to: jambonzTarget(config.jambonz.agentTarget),
        callHook: publicUrlFor(config.publicUrl, `${JAMBONZ_PATHS.agent}?call=${encodeURIComponent(callerCallId)}`),
        callStatusHook: publicUrlFor(config.publicUrl, JAMBONZ_PATHS.callStatus),
      });
    },
  };
}

/** `WS /media/jambonz`: the listen's `wsAuth` Basic credentials. Refusals are counted and audited. */
function upgradeValid(ctx: ProviderContext, req: IncomingMessage): boolean {
  if (jambonzValidationOff(ctx)) return true;
  if (wsAuthValid(req, jambonzWsCredentials(ctx.config.jambonz))) return true;
  signatureRefused(ctx, 'jambonz', mediaPath('jambonz'), req.socket.remoteAddress, req.headers.authorization ? 'invalid' : 'missing');
  return false;
}

/** jambonz on the seam: a top-level bidirectional `listen`, `Jambonz-Signature`, binary L16 on `audio.jambonz.org`. */
export function createJambonzProvider(ctx: ProviderContext, rest: JambonzRestClient = createJambonzRestClient(ctx.config.jambonz)): TelephonyProvider {
  return {
    name: 'jambonz',
    router: (flow) => jambonzRouter(ctx, flow),
    verifyUpgrade: (req) => upgradeValid(ctx, req),
    wire: jambonzWire({ streaming: ctx.config.jambonz.bidirectionalStreaming }),
    subprotocol: JAMBONZ_SUBPROTOCOL,
    dialer: jambonzAgentDialer(ctx.config, rest),
    agentId: ctx.config.jambonz.agentId,
    handledCallRetentionDays: ctx.config.jambonz.handledCallRetentionDays,
  };
}
