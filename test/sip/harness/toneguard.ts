import { createServer } from 'node:net';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createLogger } from '../../../src/audit/logger.js';
import { loadConfig } from '../../../src/config/index.js';
import { startServer, type RunningServer } from '../../../src/server.js';
import { startDaemon } from './proc.js';
import { freeUdpPort, rtpPortRange } from './ports.js';
import { waitForNg, type Relay } from './relay.js';

/**
 * Toneguard as the proxy's media relay, configured only through the public SIP environment
 * variables (TONEGUARD_NG_LISTEN, TONEGUARD_RTP_PORTS, TONEGUARD_RTP_ADDRESS), as an operator
 * would: in this process (tests: the REST API and the registry are at hand) or as a child
 * `toneguard serve` (the bench: its CPU is its own).
 */
export interface ToneguardRelay extends Relay {
  readonly kind: 'toneguard';
  /** The HTTP base URL of the agent API. */
  readonly url: string;
  /** `Bearer <jwt>` from the development issuer (POST /v1/dev/token). */
  bearer(sub: string, role: 'agent' | 'supervisor'): Promise<string>;
}

const ROOT = resolve(import.meta.dirname, '../../..');

async function sipEnv(): Promise<{ env: Record<string, string>; ngPort: number }> {
  const ngPort = await freeUdpPort();
  const range = rtpPortRange(200);
  return {
    ngPort,
    env: { TONEGUARD_NG_LISTEN: `udp:127.0.0.1:${ngPort}`, TONEGUARD_RTP_PORTS: `${range.min}-${range.max}`, TONEGUARD_RTP_ADDRESS: '127.0.0.1' },
  };
}

const bearerFrom = (url: string) => async (sub: string, role: string): Promise<string> => {
  const res = await fetch(`${url}/v1/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sub, role }) });
  if (res.status !== 201) throw new Error(`dev token: HTTP ${res.status}`);
  return `Bearer ${((await res.json()) as { token: string }).token}`;
};

/** In this process, with a capturing logger (`logLines`). */
export async function startToneguardInProcess(dir: string): Promise<ToneguardRelay & { server: RunningServer; logLines: string[] }> {
  const { env, ngPort } = await sipEnv();
  const dataDir = join(dir, 'toneguard-data');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const logLines: string[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void logLines.push(line) } });
  const config = loadConfig({ env, configDir: join(ROOT, 'config'), overrides: { port: 0, host: '127.0.0.1', dataDir, publicUrl: 'https://toneguard.test' } });
  const server = await startServer(config, { logger });
  const log = (): string => logLines.join('');
  try {
    await waitForNg(ngPort, { name: 'toneguard', log });
  } catch (error) {
    await server.close();
    throw error;
  }
  return { kind: 'toneguard', ngSocket: env.TONEGUARD_NG_LISTEN, pid: process.pid, url: server.url, bearer: bearerFrom(server.url), log, stop: () => server.close(), server, logLines };
}

async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** `toneguard serve` from source in a child process. */
export async function startToneguardServe(dir: string): Promise<ToneguardRelay> {
  const { env, ngPort } = await sipEnv();
  const port = await freeTcpPort();
  const dataDir = join(dir, 'toneguard-data');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const daemon = startDaemon('toneguard', process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli.ts'), 'serve'], dir, {
    ...env,
    TONEGUARD_PORT: String(port),
    TONEGUARD_HOST: '127.0.0.1',
    TONEGUARD_DATA_DIR: dataDir,
    TONEGUARD_LOG_LEVEL: 'warn',
  }, ROOT);
  await waitForNg(ngPort, daemon, 90_000);
  const url = `http://127.0.0.1:${port}`;
  return { kind: 'toneguard', ngSocket: env.TONEGUARD_NG_LISTEN, pid: daemon.pid, url, bearer: bearerFrom(url), log: daemon.log, stop: () => daemon.stop() };
}
