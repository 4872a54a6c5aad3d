import type { Config } from './config/index.js';
import type { Logger } from './audit/logger.js';
import type { AuditSink } from './audit/types.js';
import type { Metrics } from './audit/metrics.js';
import type { CallRegistry } from './state/calls.js';
import type { Router } from 'express';
import type { Alerter } from './audit/alerts.js';
import type { ServiceSigningKey } from './audit/service-key.js';
import type { ShutdownHook } from './http/shutdown.js';
import type { CaptureService } from './capture/types.js';
import type { KeyringPort, Vault } from './vault/types.js';
import type { CallerSimulator } from './agent/simulated-calls.js';
import type { IncidentControl } from './incident/switch.js';
import type { VerificationService } from './verification/service.js';
import type { HealthPort } from './cluster/health.js';
import type { DatabasePool } from './db/pool.js';
import type { ClusterState } from './cluster/index.js';
import type { CaptureViewSource } from './cluster/capture-views.js';
import type { CallCommands } from './cluster/call-commands.js';
import type { Failover } from './cluster/failover-wiring.js';

/**
 * Everything the HTTP and WebSocket adapters need, built once by the composition root
 * (`src/server.ts`). Modules receive what they use from here; none constructs its own.
 */
export interface AppContext {
  config: Config;
  logger: Logger;
  audit: AuditSink;
  metrics: Metrics;
  calls: CallRegistry;
  /** Resolves when the service is ready for traffic; `/readyz` reports it. */
  ready: () => boolean;
  /** Cluster mode: whether Redis and PostgreSQL answer (`/readyz` fails while one does not). Absent on a single node. */
  health?: HealthPort;
  /** Registers work to finish on shutdown (cancel live captures, close stores); run last-registered first, within `http.shutdownTimeoutMs`. */
  onShutdown: (hook: ShutdownHook, name?: string) => void;
  /** The service signing key: sign outbound requests and alerts; publish `getServiceJwks(serviceKey)` at `/.well-known/jwks.json`. */
  serviceKey: ServiceSigningKey;
  /** Raises an operator alert (log, metric, audit trail, signed webhook). */
  alerter: Alerter;
  /** The processor side's routes: `/v1/detokenize`, Twilio Pay status callbacks and the Generic Pay Connector (built by `processors/wiring.ts`). */
  payments: { router: Router };
  captures: CaptureService;
  vault: Vault;
  keyring: KeyringPort;
  /** The demo's simulated caller; only a development service offers it (`POST /v1/dev/simulated-calls`). */
  callerSimulator?: CallerSimulator;
  /** The incident switch: frozen detokenization and capture starts, revoked agent sessions. */
  incident: IncidentControl;
  /** Caller verification: attestation, the number on file, one-time codes. */
  verification: VerificationService;
  /** Cluster mode's PostgreSQL: the stores every node must share (answered call ids, ...) live there. */
  database?: DatabasePool;
  /** The state shared with the other nodes (cluster mode) or the single node's own (memory); `healthy()` is false while Redis is unreachable. */
  cluster: ClusterState;
  /** Capture views of every node (this one's own sessions only, on a single node). */
  captureViews: CaptureViewSource;
  /** Agent commands on a call, run on the node its media is pinned to. */
  callCommands: CallCommands;
  /** Cluster mode: calls pinned to media nodes, shared stream credentials, reconnects after a node failure. */
  failover?: Failover;
}
