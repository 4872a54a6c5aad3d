import { loadConfig } from '../config/index.js';
import { startServer } from '../server.js';
import type { ParsedArgs } from './args.js';

export async function serveCommand(_args: ParsedArgs): Promise<number | 'running'> {
  const config = loadConfig();
  const running = await startServer(config);
  const stop = () => {
    void running.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return 'running';
}
