import { WebSocketServer } from 'ws';
import type { AppContext } from '../../context.js';
import { refuseUpgrade, type UpgradeHandler } from '../../http/upgrade.js';
import { wsServerOptions } from '../../http/ws.js';
import { runTwilioStream, type MediaService, type StreamAttach } from '../../media/index.js';
import { upgradeSignatureValid } from './signature.js';
import { MEDIA_STREAM_PATH } from './twiml.js';

type EndpointContext = Pick<AppContext, 'config' | 'logger' | 'audit' | 'metrics'>;

/** `WS /media/twilio`: a signed upgrade, then one Media Streams session per socket. */
export function mediaStreamEndpoint(ctx: EndpointContext, media: MediaService): { upgrade: UpgradeHandler; close: () => void } {
  const wss = new WebSocketServer(wsServerOptions(ctx.config));
  const logger = ctx.logger.child({ module: 'media-stream' });
  const settings = { maxQueuedFrames: ctx.config.media.maxQueuedFrames, maxMessagesPerSecond: ctx.config.media.maxMessagesPerSecond };
  return {
    upgrade(req, socket, head, admission) {
      if (!upgradeSignatureValid(ctx, req, MEDIA_STREAM_PATH)) return refuseUpgrade(socket, 403, 'Forbidden');
      // An accepted `start` is what authenticates a stream: from then on it leaves the unauthenticated caps.
      const attach: StreamAttach = (start, output) => {
        const attached = media.attach(start, output);
        if (!('reason' in attached)) admission.authenticated();
        return attached;
      };
      wss.handleUpgrade(req, socket, head, (ws) => runTwilioStream(ws, attach, settings, logger, ctx.metrics));
    },
    close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
    },
  };
}
