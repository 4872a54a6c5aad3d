import { WebSocketServer } from 'ws';
import type { AppContext } from '../../context.js';
import { refuseUpgrade, type UpgradeHandler } from '../../http/upgrade.js';
import { wsServerOptions } from '../../http/ws.js';
import { runTwilioStream, type MediaService, type StreamAttach } from '../../media/index.js';
import { upgradeSignatureValid } from './signature.js';
import { MEDIA_STREAM_PATH } from './twiml.js';

type EndpointContext = Pick<AppContext, 'config' | 'logger' | 'audit' | 'metrics'>;

/** The leg a refused start claimed, for the audit record: never the raw (untrusted) parameter. */
const claimedLeg = (leg: string | undefined) => (leg === 'caller' || leg === 'agent' ? leg : null);

/**
 * `WS /media/twilio`: a signed upgrade, then one Media Streams session per socket. The upgrade
 * signature covers only the bare URL (the same for every call), so it proves little; what admits
 * a stream to a call is the leg's credential, redeemed at `start`. Every refused start is audited.
 */
export function mediaStreamEndpoint(ctx: EndpointContext, media: MediaService): { upgrade: UpgradeHandler; close: () => void } {
  const wss = new WebSocketServer(wsServerOptions(ctx.config));
  const logger = ctx.logger.child({ module: 'media-stream' });
  const { maxQueuedFrames, maxMessagesPerSecond, startTimeoutMs } = ctx.config.media;
  const settings = { maxQueuedFrames, maxMessagesPerSecond, startTimeoutMs };

  const auditedAttach = (source: string | undefined): StreamAttach => (start, output) => {
    const attached = media.attach(start, output);
    if ('reason' in attached) {
      ctx.audit.record({
        action: 'media.stream_refused',
        actor: { type: 'telephony', id: 'twilio', source },
        outcome: 'denied',
        resource: { type: 'call', id: start.callSid },
        source,
        details: { reason: attached.reason, leg: claimedLeg(start.parameters.leg) },
      });
    }
    return attached;
  };

  return {
    upgrade(req, socket, head, admission) {
      if (!upgradeSignatureValid(ctx, req, MEDIA_STREAM_PATH)) return refuseUpgrade(socket, 403, 'Forbidden');
      const source = req.socket.remoteAddress;
      const attach = auditedAttach(source);
      // An accepted `start` is what authenticates a stream: from then on it leaves the unauthenticated caps.
      const admit: StreamAttach = (start, output) => {
        const attached = attach(start, output);
        if (!('reason' in attached)) admission.authenticated();
        return attached;
      };
      wss.handleUpgrade(req, socket, head, (ws) => runTwilioStream(ws, admit, settings, logger, ctx.metrics));
    },
    close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
    },
  };
}
