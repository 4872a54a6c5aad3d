import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import { createApp } from './app.js';
import type { Config } from './config/index.js';
import type { AppContext } from './context.js';
import { createLogger, type Logger } from './audit/logger.js';
import { Metrics } from './audit/metrics.js';
import { MemoryAuditSink } from './audit/types.js';
import { MemoryCallRegistry } from './state/calls.js';
import { upgradeRouter } from './http/upgrade.js';

export interface RunningServer {
  url: string;
  port: number;
  context: AppContext;
  server: Server;
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
}

/** The composition root: the one place that picks concrete implementations and wires them together. */
export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  mkdirSync(config.dataDir, { recursive: true });
  const logger = options.logger ?? createLogger({ level: config.log.level });
  let ready = false;
  const context: AppContext = {
    config,
    logger,
    audit: new MemoryAuditSink(),
    metrics: new Metrics({ defaultMetrics: true }),
    calls: new MemoryCallRegistry(),
    ready: () => ready,
  };
  const app = createApp(context);
  const server = createServer(app.http);
  server.on('upgrade', upgradeRouter(app.upgrades));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  ready = true;
  logger.info({ port, profile: config.profile }, 'toneguard listening');

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    context,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        ready = false;
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
