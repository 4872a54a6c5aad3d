import { join } from 'node:path';
import { Router } from 'express';
import type { Logger } from '../audit/logger.js';
import type { Metrics } from '../audit/metrics.js';
import type { AuditSink } from '../audit/types.js';
import type { CaptureService } from '../capture/types.js';
import type { Config } from '../config/index.js';
import { connectorRouter } from '../telephony/twilio/connector.js';
import type { DatabasePool } from '../db/pool.js';
import { ConnectorStore } from '../telephony/twilio/connector-store.js';
import { PostgresConnectorStore } from '../telephony/twilio/postgres-connector-store.js';
import { TwilioPayDriver } from '../telephony/twilio/payments-driver.js';
import { createPaymentsRestClient, type PaymentsClient } from '../telephony/twilio/payments-rest.js';
import { PAYMENTS_STATUS_PATH, paymentsStatusRouter } from '../telephony/twilio/payments-routes.js';
import { twilioSignature } from '../telephony/twilio/signature.js';
import type { Vault } from '../vault/types.js';
import { detokenizeRouter } from './detokenize.js';
import { openProcessorRegistry, processorPaths } from './enrollment.js';
import { createHandoffTokenizer, type HandoffTokenizer } from './handoff.js';
import { PostgresAssertionReplayStore } from './postgres-replay-store.js';
import { AssertionReplayStore } from './replay-store.js';
import type { ServiceSigner } from './types.js';

export interface PaymentsWiringDeps {
  config: Config;
  logger: Logger;
  audit: AuditSink;
  metrics: Metrics;
  vault: Vault;
  /** The service signing key (published at `/.well-known/jwks.json`). */
  signer: ServiceSigner;
  /** Defaults to Twilio's REST API at `config.twilio.apiBaseUrl`. */
  paymentsClient?: PaymentsClient;
  /** Cluster mode's PostgreSQL: connector answers, the processor registry and used assertions live there, not in the data dir. */
  database?: DatabasePool;
}

/** Everything the processor hand-off and Twilio Pay mode contribute, for the composition root to place. */
export interface PaymentsWiring {
  /** Give this to the capture service as its tokenizer. */
  tokenizer: HandoffTokenizer;
  /** Registers the `twilio-pay` capture mode. */
  registerModes(capture: CaptureService): void;
  /** `POST /v1/detokenize`, `POST /twilio/status/payments`, `POST /connectors/twilio-pay`. */
  router: Router;
  close(): void;
}

/**
 * Builds the processor-side pieces from configuration. Called by the composition root only
 * (`src/server.ts`); the pieces themselves receive their collaborators.
 */
export function createPaymentsWiring(deps: PaymentsWiringDeps): PaymentsWiring {
  const { config, logger, audit, vault } = deps;
  const publicUrl = config.publicUrl.replace(/\/$/, '');
  const bodyLimitBytes = config.http.bodyLimitBytes;
  const tokenizer = createHandoffTokenizer({
    vault,
    processors: config.processors,
    signer: deps.signer,
    issuer: publicUrl,
    dataDir: config.dataDir,
    logger: logger.child({ module: 'processors' }),
  });
  const driver = new TwilioPayDriver({
    client: deps.paymentsClient ?? createPaymentsRestClient(config),
    statusCallbackUrl: `${publicUrl}${PAYMENTS_STATUS_PATH}`,
    paymentConnector: config.connector.paymentConnector,
    maxAttempts: config.capture.maxAttempts,
    logger: logger.child({ module: 'twilio-pay' }),
  });
  const paths = processorPaths(config.dataDir);
  const { database } = deps;
  const store = database ? new PostgresConnectorStore(database) : new ConnectorStore(join(config.dataDir, 'connector.db'));
  const replay = database ? new PostgresAssertionReplayStore(database) : new AssertionReplayStore(paths.usedAssertions);
  const router = Router();
  router.use(
    detokenizeRouter({
      vault,
      registry: openProcessorRegistry(config.dataDir, database),
      audit,
      logger: logger.child({ module: 'detokenize' }),
      metrics: deps.metrics,
      publicUrl,
      requestsPerMinute: config.audit.rules.detokenizePerClientPerMinute,
      bodyLimitBytes,
      replay,
      maxAssertionLifetimeSec: config.detokenize.maxAssertionLifetimeSec,
    }),
  );
  router.use(
    paymentsStatusRouter({
      driver,
      signature: twilioSignature({ config, logger, audit, metrics: deps.metrics }, PAYMENTS_STATUS_PATH),
      logger,
      bodyLimitBytes,
    }),
  );
  router.use(
    connectorRouter({
      tokenizer,
      store,
      username: config.connector.username,
      password: config.connector.password,
      allowedBrands: config.capture.allowedBrands,
      publicUrl,
      authToken: config.twilio.authToken,
      validateSignatures: config.twilio.validateSignatures,
      audit,
      logger: logger.child({ module: 'connector' }),
      metrics: deps.metrics,
      failedLoginsPerMinute: config.connector.failedLoginsPerMinutePerIp,
      bodyLimitBytes,
    }),
  );
  return {
    tokenizer,
    registerModes: (capture) => capture.registerMode('twilio-pay', driver),
    router,
    close: () => {
      store.close();
      replay.close();
    },
  };
}
