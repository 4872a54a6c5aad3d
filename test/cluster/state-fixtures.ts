import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { silentLogger } from '../../src/audit/logger.js';
import { openRedis, type RedisConnections } from '../../src/cluster/redis.js';
import { REDIS_URL } from '../helpers/redis.js';

/**
 * A TCP proxy in front of the machine's Redis that a test can cut (every connection dropped, new
 * ones refused) and restore, so that "Redis unreachable" is tested without touching Redis itself.
 */
export interface CuttableProxy {
  url: string;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startRedisProxy(target = new URL(REDIS_URL)): Promise<CuttableProxy> {
  const sockets = new Set<Socket>();
  let open = true;
  const server: Server = createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(target.port || 6379), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `redis://127.0.0.1:${port}`,
    cut() {
      open = false;
      for (const socket of sockets) socket.destroy();
    },
    restore() {
      open = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export function redisConnections(prefix: string, url = REDIS_URL, commandTimeoutMs = 1_000): Promise<RedisConnections> {
  return openRedis({ url, prefix, commandTimeoutMs, logger: silentLogger() });
}

/** Polls until `check` holds (no wall-clock assertion: it fails only by the test's own timeout). */
export async function eventually(check: () => boolean | Promise<boolean>, stepMs = 20): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, stepMs));
}
