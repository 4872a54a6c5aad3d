import type { Config } from './config/index.js';
import type { Logger } from './audit/logger.js';
import type { AuditSink } from './audit/types.js';
import type { Metrics } from './audit/metrics.js';
import type { CallRegistry } from './state/calls.js';
import type { PaymentsWiring } from './processors/wiring.js';

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
  /** Processor hand-off, `/v1/detokenize`, Twilio Pay status callbacks and the Generic Pay Connector; set once a vault is wired. */
  payments?: PaymentsWiring;
}
