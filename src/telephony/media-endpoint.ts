import { WebSocketServer } from 'ws';
import type { AppContext } from '../context.js';
import { refuseUpgrade, type UpgradeHandler } from '../http/upgrade.js';
import { wsServerOptions } from '../http/ws.js';
import { readFramesDirectly } from '../http/ws-receive.js';
import type { AttachResult, MediaService, StreamStart } from '../media/index.js';
import { runMediaSocket, type StreamAttach } from './media-socket.js';
import type { TelephonyProvider } from './provider.js';

type EndpointContext = Pick<AppContext, 'config' | 'logger' | 'audit' | 'metrics'>;

/** The leg a refused start claimed, for the audit record: never the raw (untrusted) parameter. */
const claimedLeg = (leg: string | undefined) => (leg === 'caller' || leg === 'agent' ? leg : null);

/**
 * `WS /media/{provider}`: the provider's upgrade check, then one media session per socket in the
 * provider's wire format. An upgrade check often proves little (Twilio signs only the bare URL,
 * the same for every call); what admits a stream to a call is the leg's credential, redeemed at
 * `start`. Every refused start is audited.
 */
export function mediaEndpoint(ctx: EndpointContext, media: MediaService, provider: Pick<TelephonyProvider, 'name' | 'wire' | 'verifyUpgrade' | 'subprotocol'>): { upgrade: UpgradeHandler; close: () => void } {
  const subprotocol = provider.subprotocol;
  const wss = new WebSocketServer({
    ...wsServerOptions(ctx.config),
    ...(subprotocol ? { handleProtocols: (offered: Set<string>) => (offered.has(subprotocol) ? subprotocol : false) } : {}),
  });
  const logger = ctx.logger.child({ module: 'media-stream', provider: provider.name });
  const { maxQueuedFrames, maxMessagesPerSecond, startTimeoutMs } = ctx.config.media;
  const settings = { maxQueuedFrames, maxMessagesPerSecond, startTimeoutMs };

  const auditedAttach = (source: string | undefined): StreamAttach => (start, output) => {
    const attached = media.attach(start, output);
    return attached instanceof Promise ? attached.then((settled) => audited(source, start, settled)) : audited(source, start, attached);
  };

  const audited = (source: string | undefined, start: StreamStart, attached: AttachResult): AttachResult => {
    if ('reason' in attached) {
      ctx.audit.record({
        action: 'media.stream_refused',
        actor: { type: 'telephony', id: provider.name, source },
        outcome: 'denied',
        resource: { type: 'call', id: start.legCallId },
        source,
        details: { reason: attached.reason, leg: claimedLeg(start.parameters.leg) },
      });
    }
    return attached;
  };

  return {
    upgrade(req, socket, head, admission) {
      if (!provider.verifyUpgrade(req)) return refuseUpgrade(socket, 403, 'Forbidden');
      const source = req.socket.remoteAddress;
      const attach = auditedAttach(source);
      // An accepted `start` is what authenticates a stream: from then on it leaves the unauthenticated caps.
      const admitted = (attached: AttachResult): AttachResult => {
        if (!('reason' in attached)) admission.authenticated();
        return attached;
      };
      const admit: StreamAttach = (start, output) => {
        const attached = attach(start, output);
        return attached instanceof Promise ? attached.then(admitted) : admitted(attached);
      };
      wss.handleUpgrade(req, socket, head, (ws) => {
        readFramesDirectly(ws, socket, ctx.config.media.maxPayloadBytes);
        runMediaSocket(ws, provider.wire, admit, settings, logger, ctx.metrics, socket);
      });
    },
    close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
    },
  };
}
