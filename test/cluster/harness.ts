import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pg from 'pg';
import { mintDevToken } from '../../src/agent/dev-issuer.js';
import { deepMerge, parseConfig } from '../../src/config/index.js';
import { startTwilioRestStandIn, type TwilioRestStandIn, type TwilioTarget } from '../../src/simulator/index.js';
import { createTestDatabase, POSTGRES_ADMIN_URL, type TestDatabase } from '../helpers/postgres.js';
import { REDIS_URL, testRedisPrefix } from '../helpers/redis.js';
import type { CliResult } from '../helpers/cli.js';
import { freePort } from '../../src/simulator/free-port.js';

/**
 * Real node processes on loopback: `node dist/cli.js serve` (the build the release ships, made by
 * `npm run build` before the suite runs), each with its own port and data directory, all sharing
 * the machine's PostgreSQL (a fresh database per cluster) and Redis (a fresh key prefix), the
 * same keys, and one Twilio REST stand-in in this process.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli.js');

/** What Twilio signs over: the address in front of every node (a load balancer in production). */
export const CLUSTER_PUBLIC_URL = 'https://toneguard.test';
export const CLUSTER_ACCOUNT_SID = `AC${'c1'.repeat(16)}`;
/** The agent identity a Twilio call's agent leg (`client:agent`) is bound to. */
export const CLUSTER_AGENT = 'agent';
/** The `vault` processor captures are bound to; it detokenizes with the keys `enrollProcessor` gets. */
export const CLUSTER_PROCESSOR = 'acme';

/** Cluster timings short enough for tests: a dead node is noticed within about a second. */
const TEST_CLUSTER_SETTINGS = { heartbeatMs: 250, nodeTtlMs: 1_000, rpcTimeoutMs: 1_500, resumeWindowMs: 20_000 };
const READY_TIMEOUT_MS = 45_000;
const MAX_LOG_CHARS = 2_000_000;

export interface ClusterNode {
  readonly id: string;
  readonly port: number;
  /** Its own URL (`TONEGUARD_NODE_URL`), where this test reaches it. */
  readonly url: string;
  readonly dataDir: string;
  /** The running process, until it exits. */
  readonly process: ChildProcess | undefined;
  readonly running: boolean;
  /** Everything it wrote to stdout and stderr (its log lines), for diagnosis and for scans. */
  output(): string;
  /** The platform's view of this node: webhooks and streams addressed to it, signed over the public URL. */
  target(authToken: string): TwilioTarget;
}

export interface TestCluster {
  readonly nodes: ClusterNode[];
  node(id: string): ClusterNode;
  readonly database: TestDatabase;
  readonly redisPrefix: string;
  readonly standIn: TwilioRestStandIn;
  readonly authToken: string;
  readonly connector: { username: string; password: string };
  /** The environment every node shares (keys, services, platform); a node adds its id, URL, port and data directory. */
  readonly env: Record<string, string>;
  /** The target Twilio's requests to `node` use. */
  target(node: ClusterNode): TwilioTarget;
  /** Starts the node again (after a kill) on its port and data directory; resolves once `/readyz` answers 200. */
  start(node: ClusterNode): Promise<void>;
  /** SIGKILL: the process dies at once, with no shutdown of any kind. */
  kill(node: ClusterNode): Promise<void>;
  /** Runs the built CLI against the cluster's services (as an operator on one of the hosts would). */
  cli(args: string[], env?: Record<string, string>): Promise<CliResult>;
  /** A bearer token every node accepts (they share the development issuer's key). */
  agentToken(sub?: string, role?: string): Promise<string>;
  close(): Promise<void>;
}

export interface ClusterOptions {
  nodes: number;
  /** Merged over the test settings in every node's configuration file. */
  config?: Record<string, unknown>;
  label?: string;
  /** Another Redis than the machine's (a benchmark's own, whose counters nothing else moves). */
  redisUrl?: string;
  /** False: the nodes run in single-node mode (no Redis, no PostgreSQL), each on its own; a benchmark's baseline. */
  shared?: boolean;
}

const key32 = () => randomBytes(32).toString('base64');

function writePrivate(path: string, contents: string): void {
  writeFileSync(path, contents, { mode: 0o600 });
}

/** Shared keys and files: a P-256 service signing key, KEKs, fingerprint and audit keys, a development issuer key. */
function clusterKeys(dir: string) {
  const signingKeyFile = join(dir, 'service-signing.jwk');
  writePrivate(signingKeyFile, JSON.stringify(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' })));
  const devIssuerKey = JSON.stringify(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }));
  return { signingKeyFile, devIssuerKey, keks: `1:${key32()}`, fingerprintKey: key32(), auditKey: key32() };
}

/** Places the shared development issuer key where a node's issuer looks for it. */
function seedDataDir(dataDir: string, devIssuerKey: string): void {
  mkdirSync(join(dataDir, 'dev-issuer'), { recursive: true, mode: 0o700 });
  writePrivate(join(dataDir, 'dev-issuer', 'signing.jwk'), devIssuerKey);
}

function runBuiltCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (status) => resolveRun({ status, stdout, stderr }));
  });
}

/** Resolves once `url/readyz` answers 200; rejects if the process exits first or it takes too long. */
async function waitReady(node: NodeHandle): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!node.running) throw new Error(`node ${node.id} exited before it was ready:\n${node.output().slice(-4000)}`);
    const status = await fetch(`${node.url}/readyz`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    await sleep(100);
  }
  throw new Error(`node ${node.id} was not ready within ${READY_TIMEOUT_MS} ms:\n${node.output().slice(-4000)}`);
}

class NodeHandle implements ClusterNode {
  process: ChildProcess | undefined;
  private log = '';
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly id: string,
    readonly port: number,
    readonly dataDir: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.process !== undefined;
  }

  output(): string {
    return this.log;
  }

  target(authToken: string): TwilioTarget {
    return { baseUrl: this.url, publicUrl: CLUSTER_PUBLIC_URL, authToken };
  }

  spawn(env: Record<string, string>): void {
    const child = spawn(process.execPath, [CLI, 'serve'], {
      cwd: ROOT,
      env: { ...process.env, ...env, TONEGUARD_NODE_ID: this.id, TONEGUARD_NODE_URL: this.url, TONEGUARD_PORT: String(this.port), TONEGUARD_DATA_DIR: this.dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const append = (chunk: string) => {
      if (this.log.length < MAX_LOG_CHARS) this.log += chunk;
    };
    child.stdout?.setEncoding('utf8').on('data', append);
    child.stderr?.setEncoding('utf8').on('data', append);
    this.process = child;
    // A test process that dies without its afterAll must not leave nodes running.
    const orphaned = () => child.kill('SIGKILL');
    process.once('exit', orphaned);
    this.exited = new Promise((done) =>
      child.once('exit', (code, signal) => {
        process.off('exit', orphaned);
        append(`\n[harness] node ${this.id} exited (${signal ?? code})\n`);
        this.process = undefined;
        done();
      }),
    );
  }

  async signal(signal: NodeJS.Signals): Promise<void> {
    if (!this.process) return;
    this.process.kill(signal);
    await this.exited;
  }
}

/** Starts `options.nodes` node processes on one fresh database (migrated first) and one fresh Redis prefix. */
export async function startCluster(options: ClusterOptions): Promise<TestCluster> {
  const label = options.label ?? 'cluster';
  const root = mkdtempSync(join(tmpdir(), `toneguard-${label}-`));
  const [database, standIn] = await Promise.all([createTestDatabase(label.replace(/\W/g, '_')), startTwilioRestStandIn()]);
  const redis = testRedisPrefix(label);
  const keys = clusterKeys(root);
  const authToken = randomBytes(16).toString('hex');
  const connector = { username: 'twilio-pay', password: randomBytes(18).toString('base64url') };
  const configFile = join(root, 'cluster.json');
  writePrivate(
    configFile,
    JSON.stringify(
      deepMerge(
        { cluster: TEST_CLUSTER_SETTINGS, http: { requestsPerMinutePerIp: 1_000_000 }, processors: [{ name: CLUSTER_PROCESSOR, type: 'vault' }] },
        options.config ?? {},
      ),
    ),
  );
  const shared = options.shared ?? true;
  const clusterEnv = {
    TONEGUARD_REDIS_URL: options.redisUrl ?? REDIS_URL,
    TONEGUARD_REDIS_PREFIX: redis.prefix,
    TONEGUARD_DATABASE_URL: database.url,
    TONEGUARD_SIGNING_KEY_FILE: keys.signingKeyFile,
  };
  const env: Record<string, string> = {
    TONEGUARD_CONFIG: configFile,
    TONEGUARD_HOST: '127.0.0.1',
    TONEGUARD_PUBLIC_URL: CLUSTER_PUBLIC_URL,
    TONEGUARD_LOG_LEVEL: process.env.TONEGUARD_LOG_LEVEL ?? 'info',
    ...(shared ? clusterEnv : {}),
    TONEGUARD_KEKS: keys.keks,
    TONEGUARD_FINGERPRINT_KEY: keys.fingerprintKey,
    TONEGUARD_AUDIT_HMAC_KEY: keys.auditKey,
    TONEGUARD_CONNECTOR_USERNAME: connector.username,
    TONEGUARD_CONNECTOR_PASSWORD: connector.password,
    TWILIO_ACCOUNT_SID: CLUSTER_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: authToken,
    TWILIO_API_BASE_URL: standIn.url,
  };
  const operatorDir = join(root, 'operator');
  seedDataDir(operatorDir, keys.devIssuerKey);
  const cli = (args: string[], extra: Record<string, string> = {}) => runBuiltCli(args, { ...env, TONEGUARD_DATA_DIR: operatorDir, ...extra });

  if (shared) {
    const migrated = await cli(['db', 'migrate']);
    if (migrated.status !== 0) throw new Error(`toneguard db migrate failed (${migrated.status}): ${migrated.stderr}`);
  }

  const nodes: NodeHandle[] = [];
  for (let i = 1; i <= options.nodes; i++) {
    const dataDir = join(root, `node-${i}`);
    seedDataDir(dataDir, keys.devIssuerKey);
    nodes.push(new NodeHandle(`node-${i}`, await freePort(), dataDir));
  }
  const start = async (node: ClusterNode) => {
    const handle = node as NodeHandle;
    if (handle.running) return;
    handle.spawn(env);
    await waitReady(handle);
  };
  const issuerConfig = parseConfig({ dataDir: operatorDir });
  const cluster: TestCluster = {
    nodes,
    node: (id) => {
      const found = nodes.find((n) => n.id === id);
      if (!found) throw new Error(`no node ${id} in this cluster`);
      return found;
    },
    database,
    redisPrefix: redis.prefix,
    standIn,
    authToken,
    connector,
    env,
    target: (node) => node.target(authToken),
    start,
    kill: (node) => (node as NodeHandle).signal('SIGKILL'),
    cli,
    agentToken: (sub = CLUSTER_AGENT, role = 'agent') => mintDevToken(issuerConfig, { sub, role }),
    async close() {
      await Promise.all(nodes.map((n) => n.signal('SIGTERM')));
      await standIn.close();
      await database.drop().catch(() => undefined);
      await redis.clear().catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(nodes.map(start));
  } catch (err) {
    await cluster.close();
    throw err;
  }
  return cluster;
}

// ── the machine's services: only the outage test restarts them ─────────────────────────────

const PG_CLUSTER_VERSION = () => readdirSync('/etc/postgresql')[0];
const REDIS_START_ARGS = ['--daemonize', 'yes', '--bind', '127.0.0.1', '-::1', '--port', '6379', '--save', '', '--appendonly', 'no', '--dir', '/var/lib/redis', '--logfile', '/var/log/redis/ci.log'];

function pgctl(action: 'start' | 'stop' | 'restart'): void {
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', PG_CLUSTER_VERSION(), 'main', action], { stdio: 'pipe' });
}

async function postgresAnswers(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 1_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function redisAnswers(): Promise<boolean> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1_000 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

async function until(probe: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** Stops PostgreSQL for `downMs` (every node's connections fail), then starts it again and waits until it answers. */
export async function postgresOutage(downMs: number): Promise<void> {
  pgctl('stop');
  try {
    await sleep(downMs);
  } finally {
    await ensurePostgres();
  }
}

/** Shuts Redis down (nothing kept: Redis holds no durable state here) for `downMs`, then starts it again and waits until it answers. */
export async function redisOutage(downMs: number): Promise<void> {
  execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', '6379', 'shutdown', 'nosave'], { stdio: 'pipe' });
  try {
    await sleep(downMs);
  } finally {
    await ensureRedis();
  }
}

export async function ensurePostgres(): Promise<void> {
  if (await postgresAnswers()) return;
  try {
    pgctl('start');
  } catch {
    // Already starting (or running): waiting below tells.
  }
  await until(postgresAnswers, 'PostgreSQL did not answer again');
}

export async function ensureRedis(): Promise<void> {
  if (await redisAnswers()) return;
  try {
    execFileSync('redis-server', REDIS_START_ARGS, { stdio: 'pipe' });
  } catch {
    // Already starting: waiting below tells.
  }
  await until(redisAnswers, 'Redis did not answer again');
}

/** Both services up again, whatever happened: every outage test's afterAll. */
export async function ensureServices(): Promise<void> {
  await Promise.all([ensurePostgres(), ensureRedis()]);
}
