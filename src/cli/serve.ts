import { loadConfig } from '../config/index.js';
import { startServer } from '../server.js';
import type { ParsedArgs } from './args.js';
import { publishSimulatorSettings, withSimulatorDefaults } from './simulator-settings.js';

/** Slack over the shutdown bound before the process exits regardless. */
const EXIT_GRACE_MS = 1_000;

export async function serveCommand(_args: ParsedArgs): Promise<number | 'running'> {
  const config = await withSimulatorDefaults(loadConfig());
  const running = await startServer(config);
  const withdrawSimulatorSettings = publishSimulatorSettings(config, running.url);
  const stop = () => {
    setTimeout(() => process.exit(1), config.http.shutdownTimeoutMs + EXIT_GRACE_MS).unref();
    withdrawSimulatorSettings();
    running.close().then(
      () => running.context.logger.flush(() => process.exit(0)),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return 'running';
}
