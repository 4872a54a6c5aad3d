import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import pino from 'pino';
import { createApp } from './app.js';
import { checkStartupConfig, type Config } from './config/index.js';
import { configFingerprint } from './config/fingerprint.js';
import { createPrivateDataDir, restrictNewFiles } from './config/data-dir.js';
import { listenHost } from './config/listen-host.js';
import type { AppContext } from './context.js';
import { createLogger, isScrubbingLogger, type Logger } from './audit/logger.js';
import { Metrics } from './audit/metrics.js';
import { createAuditSystem } from './audit/setup.js';
import { SYSTEM_ACTOR } from './audit/types.js';
import { isClusterMode } from './config/cluster.js';
import { createCaptureViews, createClusterState, createLocalState } from './cluster/index.js';
import { createCallCommands } from './cluster/call-commands.js';
import { createFailover } from './cluster/failover-wiring.js';
import { upgradeRouter } from './http/upgrade.js';
import { ShutdownHooks } from './http/shutdown.js';
import { httpsServerOptions, loadTlsMaterial, type TlsMaterial } from './http/tls.js';
import { ToneguardError } from './errors.js';
import { openVault } from './vault/index.js';
import { createCaptureService } from './capture/index.js';
import { processorClientTls } from './processors/enrollment.js';
import { createPaymentsWiring } from './processors/wiring.js';
import type { CallerSimulator } from './agent/simulated-calls.js';
import { guardCaptures, guardVault } from './incident/guard.js';
import { createCrmLookup } from './verification/crm-lookup.js';
import { createVerificationService } from './verification/service.js';
import { createTwilioRestClient } from './telephony/twilio/rest-client.js';
import { openIncidentStore } from './incident/open.js';
import { IncidentSwitch } from './incident/switch.js';
import { openClusterDatabase } from './db/open.js';
import { disposeExpiredTokens, startSweeper } from './vault/sweeper.js';
import { disposeOldRecordings } from './media/retention.js';
import { recordingsDir, type MediaService } from './media/service.js';
import { relayDeps, startSipMode, type RtpRelayFactory, type SipMode } from './telephony/sip/index.js';
import { createRtpRelay, relayMedia } from './telephony/sip/relay/index.js';
import { createClusterHealth, postgresProbe, type HealthPort } from './cluster/health.js';
import { createPool } from './db/pool.js';

/**
 * Socket limits, so slow or idle clients cannot hold connections open. Node enforces the headers
 * and request timeouts only when it sweeps its connections (every 30 s by default), so the sweep
 * runs often enough that a limit is kept within a quarter of itself (at most a second late).
 */
function socketOptions(http: Config['http']) {
  return {
    headersTimeout: http.headersTimeoutMs,
    requestTimeout: http.requestTimeoutMs,
    keepAliveTimeout: http.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(http.headersTimeoutMs / 4))),
  };
}

export interface RunningServer {
  url: string;
  port: number;
  context: AppContext;
  server: HttpServer | HttpsServer;
  /** SIP mode, when `sip.ng.listen` is set. */
  sip?: SipMode;
  /** Graceful shutdown: stop accepting, run shutdown hooks, flush the audit trail, all within `http.shutdownTimeoutMs`. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Must come from `createLogger` (it scrubs every line); tests pass one with a capturing destination. */
  logger?: Logger;
  /** Layered over the configured certificate: client-certificate CAs and `requestCert` for mutual TLS. */
  tls?: Pick<TlsMaterial, 'ca' | 'requestCert'>;
  /** `toneguard demo --watch`: lets the desktop play a simulated caller (development profile only). */
  callerSimulator?: CallerSimulator;
  /** Builds the RTP relay SIP mode drives (default: the masking relay). */
  rtpRelay?: RtpRelayFactory;
}

function buildLogger(config: Config, given: Logger | undefined): Logger {
  if (given) {
    if (!isScrubbingLogger(given)) throw new ToneguardError('logger_not_scrubbing', 'startServer needs a logger made by createLogger', 500);
    return given;
  }
  const destination = config.log.file ? pino.destination({ dest: config.log.file, mkdir: true, sync: false }) : undefined;
  return createLogger({ level: config.log.level, destination });
}

/** How long a finished capture's view stays shared (and on the events sockets' snapshots), as the events hub keeps it. */
const CAPTURE_VIEW_RETAIN_MS = 10 * 60_000;

/** SIP mode's media path: the masking RTP relay, joined to the same media service as every provider. */
const maskingRelay: RtpRelayFactory = ({ context, media, portRange }) =>
  createRtpRelay({ media: relayMedia(media), portRange: { min: portRange.low, max: portRange.high }, logger: context.logger, metrics: context.metrics });

/** SIP mode over the masking relay (tests may inject another). */
async function startSip(context: AppContext, media: MediaService, factory: RtpRelayFactory = maskingRelay): Promise<SipMode> {
  return startSipMode({ context, relay: factory(relayDeps(context, media)) });
}

/**
 * Readiness probes of a cluster node: Redis as the shared state's connections see it, PostgreSQL
 * through a one-connection pool of its own, so that a busy pool never reads as an outage.
 */
function openClusterHealth(config: Config, logger: Logger, redisHealthy: () => boolean): { port: HealthPort; close(): Promise<void> } {
  const pool = createPool({ url: config.cluster.databaseUrl ?? '', size: 1, logger });
  const port = createClusterHealth({ probes: { redis: redisHealthy, postgres: postgresProbe(pool) }, timeoutMs: 1_000, cacheMs: 250 });
  return { port, close: () => pool.end() };
}

/** The composition root: the one place that picks concrete implementations and wires them together. */
export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const warnings = checkStartupConfig(config);
  restrictNewFiles();
  createPrivateDataDir(config.dataDir);
  const metrics = new Metrics({ defaultMetrics: true });
  const logger = buildLogger(config, options.logger);
  for (const warning of warnings) logger.warn(`DEVELOPMENT ONLY: ${warning}`);
  // Cluster mode: the stores every node shares live in PostgreSQL, whose schema must be this build's (checked before anything opens).
  const database = isClusterMode(config) ? await openClusterDatabase(config, logger) : undefined;
  const audit = createAuditSystem({ config, logger, metrics });
  const shutdownHooks = new ShutdownHooks();
  if (database) shutdownHooks.register('database', () => database.end());
  const incident = await IncidentSwitch.open({ store: openIncidentStore(config.dataDir, database), pollMs: config.incident.pollMs, audit: audit.sink, logger });
  shutdownHooks.register('incident', () => incident.close());
  const showFrozen = (frozen: boolean) => metrics.incidentFrozen.set(frozen ? 1 : 0);
  showFrozen(incident.frozen);
  incident.onChange((state) => showFrozen(state.frozen));
  const vault = openVault(config, audit.sink, { ...(database ? { pool: database } : {}) });
  if (vault.warning) logger.warn(`DEVELOPMENT ONLY: ${vault.warning}`);
  const guardedVault = guardVault(vault.vault, incident);
  const payments = createPaymentsWiring({ config, logger, audit: audit.sink, metrics, vault: guardedVault, signer: audit.signer, ...(database ? { database } : {}) });
  // Cluster mode refuses to start without Redis; the single node keeps everything in memory.
  const cluster = isClusterMode(config)
    ? await createClusterState(config, logger, metrics)
    : createLocalState(config.cluster.nodeId ?? undefined, config.cluster.nodeUrl ?? config.publicUrl);
  // Registered before the vault's and the payments' hooks, so that it runs after them: they may still publish their changes.
  shutdownHooks.register('cluster state', () => cluster.close());
  const calls = cluster.calls;
  // Cluster mode's failover pieces: pinning calls to media nodes, shared stream credentials, capture checkpoints.
  const failover = cluster.redis
    ? createFailover({ config, redis: cluster.redis.command, directory: cluster.nodes, placement: cluster.placement, keyring: vault.keyring, calls, logger })
    : undefined;
  const captureService = createCaptureService({ config: config.capture, tokenizer: payments.tokenizer, audit: audit.sink, logger, ...(failover ? { checkpoints: failover.checkpoints } : {}) });
  if (failover) {
    const orphans = failover.startSweep(captureService);
    shutdownHooks.register('orphan-sweep', () => orphans.close());
  }
  const captures = guardCaptures(captureService, incident, audit.sink);
  payments.registerModes(captures);
  shutdownHooks.register('vault', () => vault.vault.close());
  shutdownHooks.register('payments', () => payments.close());
  const sweeper = startSweeper({
    intervalMs: config.vault.sweep.intervalMs,
    logger,
    tasks: {
      tokens: () => disposeExpiredTokens(vault.store, audit.sink, { now: Date.now(), batchSize: config.vault.sweep.batchSize }),
      recordings: () => disposeOldRecordings(recordingsDir(config), { retentionDays: config.recording.retentionDays, now: Date.now(), audit: audit.sink }),
    },
  });
  shutdownHooks.register('sweeper', () => sweeper.close());
  const verification = createVerificationService({
    config: config.verification,
    calls,
    captures,
    audit: audit.sink,
    logger,
    ...(config.verification.lookupUrl ? { lookup: createCrmLookup({ url: config.verification.lookupUrl, signer: audit.signer, timeoutMs: config.verification.lookupTimeoutMs }) } : {}),
    ...(config.verification.smsFrom ? { messages: createTwilioRestClient(config) } : {}),
  });
  const health = isClusterMode(config) ? openClusterHealth(config, logger, () => cluster.healthy()) : undefined;
  if (health) shutdownHooks.register('cluster health', () => health.close());
  const captureViews = await createCaptureViews(cluster, captures, CAPTURE_VIEW_RETAIN_MS, logger);
  shutdownHooks.register('capture views', () => captureViews.close());
  const callCommands = createCallCommands({ bus: cluster.bus, selfId: cluster.nodes.self.id, captures, verification, config });
  let ready = false;
  const context: AppContext = {
    config,
    logger,
    audit: audit.sink,
    metrics,
    calls,
    ...(health ? { health: health.port } : {}),
    // A cluster node that lost Redis is not ready (it takes no new calls) until it reconnects.
    ready: () => ready && cluster.healthy(),
    onShutdown: (hook, name = 'anonymous') => shutdownHooks.register(name, hook),
    serviceKey: audit.signer,
    alerter: audit.alerter,
    captures,
    vault: guardedVault,
    keyring: vault.keyring,
    payments,
    ...(options.callerSimulator ? { callerSimulator: options.callerSimulator } : {}),
    incident,
    verification,
    ...(database ? { database } : {}),
    cluster,
    captureViews,
    callCommands,
    ...(failover ? { failover } : {}),
  };
  const app = createApp(context);
  const sip = config.sip.ng.listen ? await startSip(context, app.media, options.rtpRelay) : undefined;
  if (sip) shutdownHooks.register('sip', () => sip.close());
  const tls = loadTlsMaterial(config);
  const limits = socketOptions(config.http);
  const server = tls
    ? createHttpsServer(
        // The TLS handshake comes before any header; without its own limit it may take 120 s.
        { ...httpsServerOptions({ ...tls, ...processorClientTls(config.dataDir), ...options.tls }), ...limits, handshakeTimeout: config.http.headersTimeoutMs },
        app.http,
      )
    : createHttpServer(limits, app.http);
  server.timeout = config.http.idleTimeoutMs;
  // Upgraded (WebSocket) sockets leave the HTTP server's bookkeeping; track them to cut them at the deadline.
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('upgrade', upgradeRouter(app.upgrades, config.http, metrics));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, listenHost(config), () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  ready = true;
  audit.trail.record({
    action: 'service.started',
    actor: SYSTEM_ACTOR,
    outcome: 'success',
    details: { profile: config.profile, port, tls: tls !== undefined, config: configFingerprint(config) },
  });
  logger.info({ port, profile: config.profile, tls: tls !== undefined }, 'toneguard listening');

  let closing: Promise<void> | undefined;
  const close = async () => {
    ready = false;
    const deadline = Date.now() + config.http.shutdownTimeoutMs;
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const unfinished = await shutdownHooks.run(deadline, (name, err) => logger.error({ err, hook: name }, 'shutdown hook failed'));
    audit.trail.record({ action: 'service.stopped', actor: SYSTEM_ACTOR, outcome: unfinished.length === 0 ? 'success' : 'failure', details: { unfinished: unfinished.join(',') || null } });
    await audit.close(deadline);
    server.closeAllConnections();
    for (const socket of sockets) socket.destroy();
    await stopped;
    logger.info({ unfinished }, 'toneguard stopped');
  };

  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    context,
    server,
    ...(sip ? { sip } : {}),
    close: () => (closing ??= close()),
  };
}
