// slow: real services (two node processes, PostgreSQL, Redis)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomSid } from '../../src/simulator/index.js';
import { detokenizeVia } from '../helpers/detokenize.js';
import { enrollClusterProcessor } from './calls.js';
import { CLUSTER_PUBLIC_URL, startCluster, type ClusterNode, type TestCluster } from './harness.js';

const EXPIRY_YEAR = String((new Date().getUTCFullYear() + 3) % 100).padStart(2, '0');

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startCluster({ nodes: 2, label: 'connector' });
});

afterAll(() => cluster?.close());

/** Twilio's Generic Pay Connector request, as Twilio sends it (HTTP Basic, JSON). */
function connectorRequest(node: ClusterNode, body: Record<string, unknown>) {
  const { username, password } = cluster.connector;
  return fetch(`${node.url}/connectors/twilio-pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` },
    body: JSON.stringify(body),
  });
}

describe('Generic Pay Connector retry across nodes (real node processes)', () => {
  it('a retry with the same transaction_id, sent to another node after the first one died, gets the identical answer', async () => {
    const [a, b] = cluster.nodes;
    const puller = await enrollClusterProcessor(cluster);
    const body = { method: 'tokenize', transaction_id: randomSid('PK'), cardnumber: '4111111111111111', cvv: '123', expiry_month: '08', expiry_year: EXPIRY_YEAR };
    const first = await connectorRequest(a, body);
    expect(first.status).toBe(200);
    const answer = await first.text();
    const { token_id: token, error_code: errorCode } = JSON.parse(answer) as { token_id: string | null; error_code: string | null };
    expect(errorCode).toBeNull();
    expect(token).toMatch(/\S/);

    await cluster.kill(a);
    // Twilio did not see A's answer (A died), so it retries the same transaction; the load balancer sends it to B.
    const retry = await connectorRequest(b, body);
    expect(retry.status).toBe(200);
    expect(await retry.text()).toBe(answer);

    // The one token it names is the one stored, and B serves it.
    const read = await detokenizeVia(b.url, CLUSTER_PUBLIC_URL, puller, token as string);
    expect(read.status).toBe(200);
    expect(read.body.fields?.card_number).toBe('4111111111111111');
    expect(b.output()).not.toContain('4111111111111111');
  });
});
