import net from 'node:net';
import type pg from 'pg';
import { migrate } from '../../../src/db/migrate.js';
import { createPool, type DatabasePool } from '../../../src/db/pool.js';
import type { AuditRecord } from '../../../src/audit/chain.js';
import type { AuditEvent } from '../../../src/audit/types.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/postgres.js';

export const KEY = Buffer.from('pg-audit-test-key-0123456789abcdef');

export function event(i: number, node = 'n1'): AuditEvent {
  return { action: 'vault.tokenize', actor: { type: 'agent', id: `agent-${i % 7}` }, outcome: 'success', resource: { type: 'token', id: `tok_${node}_${i}` }, details: { i, last4: '1111' } };
}

/** A database of this test file's own, migrated to this build's schema, and a pool on it. */
export async function auditDatabase(label: string): Promise<{ db: TestDatabase; pool: DatabasePool; close(): Promise<void> }> {
  const db = await createTestDatabase(label);
  const pool = createPool({ url: db.url, size: 4 });
  await migrate(pool);
  return {
    db,
    pool,
    async close() {
      await pool.end();
      await db.drop();
    },
  };
}

/** Every record of the chain, in seq order. */
export async function chainRecords(pool: pg.Pool): Promise<AuditRecord[]> {
  const { rows } = await pool.query<{ line: string }>('SELECT record::text AS line FROM audit_records ORDER BY seq');
  return rows.map((r) => JSON.parse(r.line) as AuditRecord);
}

/**
 * A TCP proxy to the machine's PostgreSQL that a test can cut (every connection dropped, new ones
 * refused) and restore, so a trail sees PostgreSQL go away without anyone restarting it.
 * `cutAfterCommit` drops the next connection that sends a COMMIT once the server has answered
 * it, without passing the answer on: a commit the client never hears about.
 */
export class PostgresProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private port = 0;
  private dropAfterCommit = false;

  constructor(private readonly target = { host: '127.0.0.1', port: 5432 }) {}

  async start(): Promise<void> {
    this.server = net.createServer((client) => this.forward(client));
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** `url` with its host and port replaced by the proxy's. */
  url(url: string): string {
    const proxied = new URL(url);
    proxied.host = `127.0.0.1:${this.port}`;
    return proxied.toString();
  }

  async cut(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server!.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
    this.server = undefined;
  }

  restore(): Promise<void> {
    return this.start();
  }

  cutAfterCommit(): void {
    this.dropAfterCommit = true;
  }

  async stop(): Promise<void> {
    if (this.server) await this.cut();
  }

  private forward(client: net.Socket): void {
    const upstream = net.connect(this.target);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    let committing = false;
    client.on('data', (chunk) => {
      if (this.dropAfterCommit && chunk.includes('COMMIT')) {
        this.dropAfterCommit = false;
        committing = true;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!committing) return void client.write(chunk);
      client.destroy();
      upstream.destroy();
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }
}
