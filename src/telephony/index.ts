import { Router } from 'express';
import type { UpgradeHandler } from '../http/upgrade.js';
import { createMediaService, StreamCredentials, type MediaService } from '../media/index.js';
import type { KeyringPort } from '../vault/types.js';
import type { TelephonyFailover } from '../cluster/failover-wiring.js';
import type { CaptureService } from '../capture/types.js';
import type { DatabasePool } from '../db/pool.js';
import { createCallFlow } from './call-flow.js';
import { HandledCallStore, handledCallsPath, type HandledCalls } from './handled-calls.js';
import { PostgresHandledCallStore } from './postgres-handled-calls.js';
import { mediaEndpoint } from './media-endpoint.js';
import { mediaPath, type ProviderContext, type TelephonyProvider } from './provider.js';
import { enabledProviders } from './providers.js';

export interface Telephony {
  /** Every enabled provider's webhooks. */
  router: Router;
  /** Media sockets by path (`/media/{provider}`). */
  upgrades: Map<string, UpgradeHandler>;
  /** The bridges of every call, whichever way it came in (the SIP relay attaches here too). */
  media: MediaService;
  providers: readonly TelephonyProvider[];
}

export type TelephonyContext = ProviderContext & { captures: CaptureService; keyring: KeyringPort; database?: DatabasePool; failover?: TelephonyFailover };

/** Where a provider's answered call ids are kept: the cluster's PostgreSQL when there is one, else a file of the data dir. */
function handledCalls(ctx: TelephonyContext, provider: TelephonyProvider): HandledCalls {
  return ctx.database
    ? new PostgresHandledCallStore(ctx.database, provider.name, provider.handledCallRetentionDays)
    : new HandledCallStore(handledCallsPath(ctx.config.dataDir, provider.name), provider.handledCallRetentionDays);
}

/**
 * The in-line call path for every enabled provider: one media service and one credential issuer
 * shared by all, and per provider its webhooks on the neutral call flow and its media socket.
 * `providers` replaces the registry's table (tests mount a provider with stand-in parts).
 */
export function createTelephony(ctx: TelephonyContext, providers: readonly TelephonyProvider[] = enabledProviders(ctx.config).map((entry) => entry.create(ctx))): Telephony {
  // Single node: a per-process key; credentials die with the process, as do the in-memory calls they could join.
  const credentials = ctx.failover?.credentials ?? new StreamCredentials(ctx.config.media.streamCredentialTtlMs);
  const pinning = ctx.failover?.pinning;
  const media = createMediaService({ ...ctx, config: ctx.config, credentials });
  const router = Router();
  const upgrades = new Map<string, UpgradeHandler>();
  const closers: (() => void)[] = [];
  for (const provider of providers) {
    const handled = handledCalls(ctx, provider);
    const flow = createCallFlow(ctx, provider, { media, credentials, handled, ...(pinning ? { pinning } : {}) });
    const endpoint = mediaEndpoint(ctx, media, provider);
    router.use(provider.router(flow));
    upgrades.set(mediaPath(provider.name), endpoint.upgrade);
    closers.push(() => {
      endpoint.close();
      handled.close();
    });
  }
  ctx.onShutdown(async () => {
    const recordings = media.closeAll();
    for (const close of closers) close();
    await recordings;
  }, 'telephony-media');
  return { router, upgrades, media, providers };
}
