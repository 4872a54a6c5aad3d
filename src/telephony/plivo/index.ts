import type { AgentDialer, ProviderContext, TelephonyProvider } from '../provider.js';
import { mediaPath } from '../provider.js';
import { publicUrlFor } from '../twilio/signature.js';
import { createPlivoRestClient, type PlivoRestClient } from './rest-client.js';
import { PLIVO_PATHS, plivoRouter } from './routes.js';
import { plivoEnabled } from './settings.js';
import { plivoUpgradeValid } from './upgrade.js';
import { plivoWire } from './wire.js';

export { PLIVO_PATHS } from './routes.js';
export { plivoEnabled } from './settings.js';

/** The agent's call as Plivo places it: its answer URL names the customer call, its hang-up URL reports the end. */
export function plivoAgentDialer(config: ProviderContext['config'], rest: PlivoRestClient): AgentDialer {
  return {
    placeCall: async ({ callerCallId, to }) => {
      if (!config.plivo.agentTarget) throw new Error('plivo.agentTarget (PLIVO_AGENT_TARGET) is not set');
      return rest.createCall({
        to: config.plivo.agentTarget,
        from: config.plivo.callerId ?? to ?? 'toneguard',
        answerUrl: publicUrlFor(config.publicUrl, `${PLIVO_PATHS.agent}?call=${encodeURIComponent(callerCallId)}`),
        hangupUrl: publicUrlFor(config.publicUrl, PLIVO_PATHS.hangup),
      });
    },
  };
}

/** Plivo on the seam: `<Stream bidirectional keepCallAlive>`, `X-Plivo-Signature-V3`, JSON audio messages (μ-law or L16). */
export function createPlivoProvider(ctx: ProviderContext, rest: PlivoRestClient = createPlivoRestClient(ctx.config.plivo)): TelephonyProvider {
  return {
    name: 'plivo',
    router: (flow) => plivoRouter(ctx, flow),
    verifyUpgrade: (req) => plivoUpgradeValid(ctx, req, mediaPath('plivo')),
    wire: plivoWire,
    dialer: plivoAgentDialer(ctx.config, rest),
    agentId: ctx.config.plivo.agentId,
    handledCallRetentionDays: ctx.config.plivo.handledCallRetentionDays,
  };
}
