// slow: real services (PostgreSQL, Redis; the CLI spawned through tsx)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/cli/args.js';
import { dbMigrateCommand } from '../../src/cli/db.js';
import { checkSchema } from '../../src/db/migrate.js';
import { runCliAsync, lastJsonLine } from '../helpers/cli.js';
import { testRedisPrefix } from '../helpers/redis.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { clusterOverrides, sharedDatabase, type SharedDatabase } from './two-nodes.js';

const CONNECTOR = { username: 'twilio-connector', password: 'connector-password-0123' };
const EXPIRY_YEAR = String((new Date().getUTCFullYear() + 3) % 100).padStart(2, '0');

let shared: SharedDatabase;
const redis = testRedisPrefix('clusterstart');
beforeAll(async () => {
  shared = await sharedDatabase('clusterstart', { migrated: false });
});
afterAll(async () => {
  await shared.close();
  await redis.clear();
});

describe('a cluster node and its schema', () => {
  it('refuses to start on an unmigrated database, naming the command that fixes it', async () => {
    const node = clusterOverrides(shared.db.url, redis.prefix);
    await expect(startTestServer(node('node-a'))).rejects.toMatchObject({ code: 'schema_unmigrated', message: expect.stringContaining('toneguard db migrate') });
  });

  // Each spawn loads the CLI through tsx: seconds on a quiet machine, close to a minute under heavy load.
  it('`toneguard db migrate` applies every migration once, however many run at once, and is idempotent', { timeout: 180_000 }, async () => {
    const env = { TONEGUARD_DATABASE_URL: shared.db.url, TONEGUARD_REDIS_URL: 'redis://127.0.0.1:6379' };
    const runs = await Promise.all([runCliAsync(['db', 'migrate'], { env }), runCliAsync(['db', 'migrate'], { env })]);
    for (const run of runs) expect(run.status, run.stderr).toBe(0);
    const reports = runs.map((run) => lastJsonLine<{ applied: number[]; version: number }>(run.stdout)).sort((x, y) => x.applied.length - y.applied.length);
    expect(reports).toEqual([
      { applied: [], version: 3 },
      { applied: [1, 2, 3], version: 3 },
    ]);
    expect(runs.map((run) => run.stdout).join('')).toContain('applied migration 1 (vault)');
    expect(runs.map((run) => run.stdout).join('')).toContain('schema already at version 3: nothing to apply');
    await expect(checkSchema(shared.node(1))).resolves.toBeUndefined();
  });

  it('refuses `db migrate` with no database named', async () => {
    await expect(dbMigrateCommand(parseArgs([]))).rejects.toMatchObject({ code: 'usage', message: expect.stringContaining('TONEGUARD_DATABASE_URL') });
  });
});

describe('two nodes on one database (in-process services)', () => {
  let nodes: TestServer[] = [];
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.close()));
  });

  it('answer a Generic Pay Connector retry on the second node with the first node\'s answer', async () => {
    const node = clusterOverrides(shared.db.url, redis.prefix);
    nodes = [await startTestServer({ ...node('node-a'), connector: CONNECTOR }), await startTestServer({ ...node('node-b'), connector: CONNECTOR })];
    const pay = (server: TestServer, transactionId: string) =>
      fetch(`${server.url}/connectors/twilio-pay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${CONNECTOR.username}:${CONNECTOR.password}`).toString('base64')}` },
        body: JSON.stringify({ method: 'tokenize', transaction_id: transactionId, cardnumber: '5555555555554444', cvv: '737', expiry_month: '12', expiry_year: EXPIRY_YEAR }),
      }).then(async (res) => ({ status: res.status, body: (await res.json()) as { token_id: string | null; error_code: string | null } }));
    const first = await pay(nodes[0]!, 'tx-cluster-1');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ token_id: expect.stringMatching(/^tok_/), error_code: null });
    const retry = await pay(nodes[1]!, 'tx-cluster-1');
    expect(retry).toEqual(first);
    // The token itself is in the shared vault: the other node knows it.
    expect(await nodes[1]!.context.vault.info(first.body.token_id!)).toMatchObject({ last4: '4444' });
  });
});
