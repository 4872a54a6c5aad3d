// slow: real services (two node processes; this file, and only this one, stops and restarts the machine's PostgreSQL and Redis, one at a time, for a few seconds)
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/chain.js';
import type { NodeInfo } from '../../src/cluster/ports.js';
import { postTwilioWebhook, randomSid, syntheticSpeech, waitFor, type SimulatedCall } from '../helpers/twilio.js';
import { detokenizeVia, type Puller } from '../helpers/detokenize.js';
import { REDIS_URL } from '../helpers/redis.js';
import { dialVia, enrollClusterProcessor, pause, streamNode } from './calls.js';
import { CLUSTER_ACCOUNT_SID, CLUSTER_PUBLIC_URL, ensureServices, postgresOutage, redisOutage, startCluster, type ClusterNode, type TestCluster } from './harness.js';

/** Long enough for every node to notice, short enough not to trouble the other test files sharing these services. */
const OUTAGE_MS = 3_000;
const EXPIRY_YEAR = String((new Date().getUTCFullYear() + 3) % 100).padStart(2, '0');

let cluster: TestCluster;
let puller: Puller;

beforeAll(async () => {
  cluster = await startCluster({ nodes: 2, label: 'outage', config: { audit: { rules: { detokenizePerClientPerMinute: 100_000 } } } });
  puller = await enrollClusterProcessor(cluster);
});

afterAll(async () => {
  // Whatever happened above, both services run again before anything else.
  await ensureServices();
  await cluster?.close();
});

interface Readiness {
  status: number;
  body: { status?: string; unreachable?: string[] };
}

const readyz = (node: ClusterNode): Promise<Readiness> =>
  fetch(`${node.url}/readyz`).then(
    async (r) => ({ status: r.status, body: (await r.json()) as Readiness['body'] }),
    () => ({ status: 0, body: {} }),
  );

/** What a Generic Pay Connector tokenize came back with. */
interface Attempt {
  status: number;
  token: string | null;
  errorCode: string | null;
}

async function tokenize(node: ClusterNode): Promise<Attempt> {
  const { username, password } = cluster.connector;
  const body = { method: 'tokenize', transaction_id: randomSid('PK'), cardnumber: '4111111111111111', cvv: '123', expiry_month: '08', expiry_year: EXPIRY_YEAR };
  try {
    const response = await fetch(`${node.url}/connectors/twilio-pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const json = (await response.json().catch(() => ({}))) as { token_id?: string | null; error_code?: string | null; error?: { code?: string } };
    return { status: response.status, token: json.token_id ?? null, errorCode: json.error_code ?? json.error?.code ?? null };
  } catch {
    return { status: 0, token: null, errorCode: 'no_answer' };
  }
}

/** Tokenizes on every node in turn until `stop` resolves. */
async function tokenizeUntil(stop: Promise<unknown>): Promise<Attempt[]> {
  const attempts: Attempt[] = [];
  let done = false;
  void stop.finally(() => (done = true));
  for (let i = 0; !done; i++) {
    attempts.push(await tokenize(cluster.nodes[i % cluster.nodes.length]));
    await pause(50);
  }
  return attempts;
}

/** Caller and agent talk without pause for `ms`. */
const talk = (call: SimulatedCall, ms: number) => Promise.all([call.callerPlays(syntheticSpeech(ms, 1)), call.agentPlays(syntheticSpeech(ms, 2))]);

async function auditRecords(): Promise<AuditRecord[]> {
  const client = new pg.Client({ connectionString: cluster.database.url });
  await client.connect();
  try {
    return (await client.query<{ record: AuditRecord }>('SELECT record FROM audit_records ORDER BY seq')).rows.map((r) => r.record);
  } finally {
    await client.end();
  }
}

/** Both nodes' readiness, sampled while `during` runs. */
async function sampleReadiness(during: Promise<unknown>): Promise<Readiness[]> {
  const samples: Readiness[] = [];
  let done = false;
  void during.finally(() => (done = true));
  while (!done) {
    samples.push(...(await Promise.all(cluster.nodes.map(readyz))));
    await pause(200);
  }
  return samples;
}

describe('the cluster through outages of its shared services', () => {
  it('PostgreSQL stops under load: the nodes stay up, say what is missing, refuse tokenizing with a clear error, recover by themselves; no acknowledged token or audit record is lost', async () => {
    const calls = await Promise.all(cluster.nodes.map((node) => dialVia(cluster, node)));
    const conversation = Promise.all(calls.map((call) => talk(call, OUTAGE_MS + 6_000)));
    await pause(500);
    const outage = postgresOutage(OUTAGE_MS);
    const [attempts, readiness] = await Promise.all([tokenizeUntil(outage.then(() => pause(1_000))), sampleReadiness(outage)]);
    await conversation;

    expect(readiness.some((r) => r.status === 503 && r.body.unreachable?.includes('postgres'))).toBe(true);
    for (const r of readiness.filter((s) => s.status !== 200)) {
      expect(r.status).toBe(503);
      expect(JSON.stringify(r.body)).not.toMatch(/postgres:\/\/|password|127\.0\.0\.1/);
    }
    // Refused, never half-done: every answer is a token or a stable error code.
    const refused = attempts.filter((a) => a.token === null);
    expect(refused.length, 'some tokenizes were refused during the outage').toBeGreaterThan(0);
    for (const a of refused) expect(a.errorCode).toMatch(/^[a-z_]+$/);
    // Live calls kept their audio: media never waits on PostgreSQL.
    for (const call of calls) expect(call.agentHeard().length).toBeGreaterThan((OUTAGE_MS + 5_000) * 8 * 0.9);

    // Recovered by itself: ready again, and tokenizing works on every node.
    await waitFor(async () => (await Promise.all(cluster.nodes.map(readyz))).every((r) => r.status === 200), 20_000);
    const after = await Promise.all(cluster.nodes.map(tokenize));
    for (const a of after) expect(a.token, `tokenize after recovery: ${a.errorCode}`).not.toBeNull();

    const acknowledged = [...attempts, ...after].flatMap((a) => (a.token ? [a.token] : []));
    expect(acknowledged.length).toBeGreaterThan(0);
    const tokenized = new Set((await auditRecords()).filter((r) => r.action === 'vault.tokenize' && r.outcome === 'success').map((r) => r.resource?.id));
    for (const token of acknowledged) {
      expect(tokenized.has(token), 'its audit record').toBe(true);
      expect((await detokenizeVia(cluster.nodes[0].url, CLUSTER_PUBLIC_URL, puller, token)).status, 'the token').toBe(200);
    }
    const verified = await cluster.cli(['audit', 'verify']);
    expect(verified.status, verified.stderr).toBe(0);
    await Promise.all(calls.map((call) => call.hangUp()));
  });

  it('Redis stops under load: live calls keep flowing, new calls are refused with 503, the nodes re-register and take calls again', async () => {
    const calls = await Promise.all(cluster.nodes.map((node) => dialVia(cluster, node)));
    const conversation = Promise.all(calls.map((call) => talk(call, OUTAGE_MS + 6_000)));
    await pause(500);
    const heardBefore = calls.map((call) => call.agentHeard().length);
    const outage = redisOutage(OUTAGE_MS);
    const readiness = sampleReadiness(outage);
    // A new call during the outage: its webhook is refused (the platform then tries its fallback URL).
    await pause(1_000);
    const refusedNewCall = await Promise.all(
      cluster.nodes.map((node) =>
        postTwilioWebhook(cluster.target(node), '/twilio/voice/inbound', { AccountSid: CLUSTER_ACCOUNT_SID, CallSid: randomSid('CA'), From: '+15005550006', To: '+15005550001', CallStatus: 'ringing' }),
      ),
    );
    await outage;
    const samples = await readiness;
    await conversation;

    for (const answer of refusedNewCall) expect(answer.status).toBe(503);
    expect(samples.some((r) => r.status === 503 && r.body.unreachable?.includes('redis'))).toBe(true);
    // The media path never awaited Redis: every call carried its audio through the outage.
    for (const [i, call] of calls.entries()) expect(call.agentHeard().length - heardBefore[i]).toBeGreaterThan((OUTAGE_MS + 4_500) * 8 * 0.9);

    // Reconnected by themselves: registered again (Redis came back empty), ready, taking calls on both nodes.
    const redis = new Redis(REDIS_URL);
    try {
      await waitFor(async () => {
        const entries = await Promise.all(cluster.nodes.map((n) => redis.get(`${cluster.redisPrefix}node:${n.id}`)));
        return entries.every((e) => e !== null && (JSON.parse(e) as NodeInfo).accepting);
      }, 20_000);
    } finally {
      redis.disconnect();
    }
    await waitFor(async () => (await Promise.all(cluster.nodes.map(readyz))).every((r) => r.status === 200), 20_000);
    const fresh: SimulatedCall[] = [];
    for (const node of cluster.nodes) {
      fresh.push(await dialVia(cluster, node));
      await pause(300);
    }
    // Taken and carried (by whichever node has the fewest calls now): audio flows again.
    for (const call of fresh) expect(streamNode(cluster, call.caller)).toBeDefined();
    await Promise.all(fresh.map((call) => talk(call, 1_000)));
    for (const call of fresh) expect(call.agentHeard().length).toBeGreaterThan(4_000);
    await Promise.all([...calls, ...fresh].map((call) => call.hangUp()));
  });
});
