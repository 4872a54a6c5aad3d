import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditRecord } from '../../src/audit/chain.js';
import { createPool } from '../../src/db/pool.js';
import { chainRecords } from '../audit/pg/fixtures.js';
import { REDIS_URL } from '../helpers/redis.js';
import { startTestServer, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, type TestServer } from '../helpers/server.js';
import { SimulatedCall, waitFor, type TwilioRestStandIn } from '../helpers/twilio.js';
import { freePort } from '../../src/simulator/free-port.js';

/** The keys every node of one test cluster shares (a cluster node never generates its own). */
export function sharedKeys() {
  const dir = mkdtempSync(join(tmpdir(), 'toneguard-failover-'));
  const signingKeyFile = join(dir, 'signing.jwk');
  writeFileSync(signingKeyFile, JSON.stringify(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' })), { mode: 0o600 });
  return {
    signingKeyFile,
    keks: [`1:${randomBytes(32).toString('base64')}`],
    fingerprintKey: randomBytes(32).toString('base64'),
    hmacKey: randomBytes(32).toString('base64'),
  };
}

export interface TestNode {
  id: string;
  server: TestServer;
  /** Kills the node as SIGKILL would, in-process: its Redis connections (heartbeat, bus) go first, then every socket, with no shutdown. */
  kill(): Promise<void>;
}

export interface NodeSettings {
  prefix: string;
  databaseUrl: string;
  keys: ReturnType<typeof sharedKeys>;
  standIn: TwilioRestStandIn;
  resumeWindowMs?: number;
}

/** One test node's settings: the cluster's shared keys, its own port and URL, fast heartbeats, no recording. */
export function clusterNodeConfig(id: string, port: number, shared: { keys: ReturnType<typeof sharedKeys>; databaseUrl: string; prefix: string }) {
  const { keys } = shared;
  return {
    port,
    vault: { keks: keys.keks, fingerprintKey: keys.fingerprintKey },
    audit: { hmacKey: keys.hmacKey },
    recording: { enabled: false },
    cluster: {
      redisUrl: REDIS_URL,
      databaseUrl: shared.databaseUrl,
      nodeId: id,
      nodeUrl: `http://127.0.0.1:${port}`,
      signingKeyFile: keys.signingKeyFile,
      redisPrefix: shared.prefix,
      heartbeatMs: 200,
      nodeTtlMs: 1_000,
      rpcTimeoutMs: 400,
    },
  };
}

export async function startNode(id: string, settings: NodeSettings): Promise<TestNode> {
  const port = await freePort();
  const { keys } = settings;
  const config = clusterNodeConfig(id, port, { keys, databaseUrl: settings.databaseUrl, prefix: settings.prefix });
  const server = await startTestServer({
    ...config,
    twilio: { apiBaseUrl: settings.standIn.url },
    cluster: { ...config.cluster, resumeWindowMs: settings.resumeWindowMs ?? 5_000 },
  });
  const sockets = new Set<Socket>();
  server.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return {
    id,
    server,
    async kill() {
      await server.context.cluster?.redis?.close();
      server.server.close();
      server.server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
    },
  };
}

/** A Twilio call into the cluster: its webhooks to `first` (then any other node, as a load balancer would). */
export function dialInto(first: TestNode, others: readonly TestNode[], standIn: TwilioRestStandIn, followReconnects = true): Promise<SimulatedCall> {
  return SimulatedCall.dial({
    target: { baseUrl: first.server.url, publicUrl: first.server.context.config.publicUrl, authToken: TEST_AUTH_TOKEN },
    fallbackBaseUrls: others.map((node) => node.server.url),
    accountSid: TEST_ACCOUNT_SID,
    standIn,
    followReconnects,
  });
}

/** The records of the cluster's audit chain in PostgreSQL, once one matching `wanted` is committed. */
export async function waitForAuditRecord(databaseUrl: string, wanted: (record: AuditRecord) => boolean): Promise<AuditRecord> {
  const pool = createPool({ url: databaseUrl, size: 1 });
  try {
    return await waitFor(async () => (await chainRecords(pool)).find(wanted));
  } finally {
    await pool.end();
  }
}
