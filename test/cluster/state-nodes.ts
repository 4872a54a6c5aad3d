import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { mintDevToken } from '../../src/agent/dev-issuer.js';
import { EVENTS_SUBPROTOCOL } from '../../src/agent/index.js';
import type { CaptureView } from '../../src/capture/types.js';
import { strongSecrets } from '../helpers/production.js';
import { REDIS_URL } from '../helpers/redis.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Several real services in this process forming one cluster on a Redis prefix of their own: the
 * same shared keys (KEKs, fingerprint, audit, service signing key, dev token issuer), each its own
 * node id, URL and data directory, and one migrated PostgreSQL database (`databaseUrl`, which the
 * caller drops when done).
 */
export async function startClusterNodes(
  ids: string[],
  prefix: string,
  databaseUrl: string,
  options: { redisUrl?: Record<string, string>; overrides?: Record<string, unknown> } = {},
): Promise<TestServer[]> {
  const shared = mkdtempSync(join(tmpdir(), 'toneguard-cluster-'));
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signingKeyFile = join(shared, 'signing.jwk');
  writeFileSync(signingKeyFile, JSON.stringify(privateKey.export({ format: 'jwk' })), { mode: 0o600 });
  const devIssuer = JSON.stringify(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }));
  const secrets = strongSecrets();
  const servers: TestServer[] = [];
  for (const id of ids) {
    const dataDir = join(shared, id);
    mkdirSync(join(dataDir, 'dev-issuer'), { recursive: true, mode: 0o700 });
    writeFileSync(join(dataDir, 'dev-issuer', 'signing.jwk'), devIssuer, { mode: 0o600 });
    servers.push(
      await startTestServer({
        dataDir,
        vault: secrets.vault,
        audit: secrets.audit,
        events: { heartbeatMs: 1000, authTimeoutMs: 2000 },
        cluster: {
          redisUrl: options.redisUrl?.[id] ?? REDIS_URL,
          databaseUrl,
          nodeId: id,
          nodeUrl: `https://${id}.toneguard.test`,
          signingKeyFile,
          redisPrefix: prefix,
          heartbeatMs: 200,
          rpcTimeoutMs: 1000,
        },
        ...options.overrides,
      }),
    );
  }
  return servers;
}

export const bearer = async (server: TestServer, sub: string, role = 'agent') => `Bearer ${await mintDevToken(server.context.config, { sub, role })}`;

interface Received {
  type: string;
  view?: CaptureView;
  call?: { callSid: string };
}

/** An agent's events socket on one node. */
export class EventsSocket {
  readonly events: Received[] = [];
  private readonly ws: WebSocket;

  private constructor(server: TestServer, token: string) {
    this.ws = new WebSocket(server.url.replace(/^http/, 'ws') + '/v1/events', [EVENTS_SUBPROTOCOL, `bearer.${token}`]);
    this.ws.on('message', (data) => this.events.push(JSON.parse(data.toString()) as Received));
    this.ws.on('error', () => undefined);
  }

  static async open(server: TestServer, sub: string, role = 'agent'): Promise<EventsSocket> {
    return new EventsSocket(server, await mintDevToken(server.context.config, { sub, role }));
  }

  calls(): string[] {
    return this.events.flatMap((e) => (e.type === 'call' && e.call ? [e.call.callSid] : []));
  }

  latest(captureId: string): CaptureView | undefined {
    return this.events.flatMap((e) => (e.type === 'capture' && e.view?.id === captureId ? [e.view] : [])).at(-1);
  }

  close(): void {
    this.ws.close();
  }
}
