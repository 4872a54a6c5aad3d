import express, { type Express } from 'express';
import type { AppContext } from './context.js';
import { errorHandler, notFound } from './http/errors.js';
import type { UpgradeHandler } from './http/upgrade.js';
import { accessLog } from './http/access-log.js';
import { bodyLimit, corsPolicy, noStore, securityHeaders } from './http/security.js';
import { ipRateLimit } from './http/rate-limit.js';
import { createTelephony } from './telephony/index.js';
import { createAgentRouter, createTokenVerifier, EVENTS_PATH, eventsEndpoint } from './agent/index.js';
import { createDesktopRouter } from './agent/desktop-routes.js';
import { createSimulatedCallsRouter } from './agent/simulated-calls.js';
import type { MediaService } from './media/index.js';

export interface BuiltApp {
  http: Express;
  /** WebSocket endpoints by path. */
  upgrades: Map<string, UpgradeHandler>;
  /** The media bridges: transports other than the platforms' WebSockets (the SIP relay) attach their legs here. */
  media: MediaService;
}

/** Assembles the routes. Each feature module contributes a router and, where it has one, a WebSocket endpoint. */
export function createApp(ctx: AppContext): BuiltApp {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', ctx.config.http.tls.behindProxy ? 1 : false);
  const upgrades = new Map<string, UpgradeHandler>();
  app.use(securityHeaders(ctx.config));
  app.use('/v1', noStore);
  app.use(corsPolicy(ctx.config.http.corsOrigins));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    // Cluster mode: a node whose Redis or PostgreSQL is unreachable cannot take new work; it says which, by name only.
    const unreachable = (await ctx.health?.check())?.unreachable ?? [];
    if (unreachable.length > 0) return void res.status(503).json({ status: 'unavailable', unreachable });
    if (!ctx.ready()) return void res.status(503).json({ status: 'starting' });
    res.json({ status: 'ready' });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(ctx.metrics.contentType).send(await ctx.metrics.render());
  });
  // Probes above stay unlimited and unlogged. The limiter runs before the access log, so a flood
  // is refused for the price of a counter and never reaches the logger (or its scrubber).
  app.use(ipRateLimit(ctx.config, () => ctx.metrics.httpRateLimited.inc(), ctx.cluster.rateLimitStores));
  app.use(accessLog(ctx.logger, ctx.metrics));
  app.use(bodyLimit(ctx.config.http.bodyLimitBytes));

  app.use(ctx.payments.router);
  const verifier = createTokenVerifier(ctx.config, { revokedBefore: () => ctx.incident.revokedBefore });
  app.use(createAgentRouter(ctx, verifier));
  app.use(createSimulatedCallsRouter(ctx, verifier));
  const events = eventsEndpoint(ctx, verifier);
  upgrades.set(EVENTS_PATH, events.upgrade);
  ctx.onShutdown(() => events.close(), 'agent events');
  const telephony = createTelephony(ctx);
  app.use(telephony.router);
  for (const [path, upgrade] of telephony.upgrades) upgrades.set(path, upgrade);
  app.use(createDesktopRouter(ctx.config, ctx.callerSimulator));

  app.use(notFound);
  app.use(errorHandler(ctx.logger));
  return { http: app, upgrades, media: telephony.media };
}
