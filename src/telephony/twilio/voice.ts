import { join } from 'node:path';
import type { Router } from 'express';
import type { AppContext } from '../../context.js';
import type { UpgradeHandler } from '../../http/upgrade.js';
import { createMediaService, StreamCredentials, type MediaService } from '../../media/index.js';
import { HandledCallStore } from './handled-calls.js';
import { mediaStreamEndpoint } from './media-endpoint.js';
import { createTwilioRestClient, type TwilioRestClient } from './rest-client.js';
import { voiceRouter } from './voice-routes.js';

export interface TwilioVoice {
  router: Router;
  /** For `upgrades.set(MEDIA_STREAM_PATH, …)`. */
  upgrade: UpgradeHandler;
  media: MediaService;
}

/** Where answered CallSids are remembered across restarts. */
export function handledCallsPath(dataDir: string): string {
  return join(dataDir, 'twilio-calls.db');
}

/** The in-line Twilio call path: webhooks, the media stream endpoint and the bridges behind them. */
export function createTwilioVoice(ctx: AppContext, rest: TwilioRestClient = createTwilioRestClient(ctx.config)): TwilioVoice {
  // A per-process key: credentials die with the process, as do the in-memory calls they could join.
  const credentials = new StreamCredentials(ctx.config.media.streamCredentialTtlMs);
  const handled = new HandledCallStore(handledCallsPath(ctx.config.dataDir), ctx.config.twilio.handledCallRetentionDays);
  const media = createMediaService({ ...ctx, config: ctx.config, credentials });
  const endpoint = mediaStreamEndpoint(ctx, media);
  ctx.onShutdown(async () => {
    const recordings = media.closeAll();
    endpoint.close();
    await recordings;
    handled.close();
  }, 'twilio-media');
  return { router: voiceRouter(ctx, { media, rest, credentials, handled }), upgrade: endpoint.upgrade, media };
}
