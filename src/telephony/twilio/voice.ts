import type { Router } from 'express';
import type { AppContext } from '../../context.js';
import type { UpgradeHandler } from '../../http/upgrade.js';
import { createMediaService, type MediaService } from '../../media/index.js';
import { mediaStreamEndpoint } from './media-endpoint.js';
import { createTwilioRestClient, type TwilioRestClient } from './rest-client.js';
import { voiceRouter } from './voice-routes.js';

export interface TwilioVoice {
  router: Router;
  /** For `upgrades.set(MEDIA_STREAM_PATH, …)`. */
  upgrade: UpgradeHandler;
  media: MediaService;
}

/** The in-line Twilio call path: webhooks, the media stream endpoint and the bridges behind them. */
export function createTwilioVoice(ctx: AppContext, rest: TwilioRestClient = createTwilioRestClient(ctx.config)): TwilioVoice {
  const media = createMediaService({ ...ctx, config: ctx.config });
  const endpoint = mediaStreamEndpoint(ctx, media);
  ctx.onShutdown(async () => {
    const recordings = media.closeAll();
    endpoint.close();
    await recordings;
  }, 'twilio-media');
  return { router: voiceRouter(ctx, media, rest), upgrade: endpoint.upgrade, media };
}
