/**
 * `npm run bench:cluster`: calls per node, and what the shared services pay per call, at 1, 2 and 3
 * node processes (`node dist/cli.js serve`: run `npm run build` first), against one node in
 * single-node mode measured in the same run as the baseline.
 *
 * Each phase gives every node the same load (BENCH_CALLS_PER_NODE bridged calls, both legs at 50
 * frames/s, pinned by the cluster itself: webhooks go round-robin to the nodes). The nodes share
 * core 0, this load generator has core 1: on a 2-core machine, three node processes cannot scale
 * linearly, and the figure to read is calls per core of node CPU, not calls per machine.
 *
 * Redis is a private `redis-server` started for the run, so that INFO commandstats counts this
 * run's commands only; PostgreSQL is the machine's, with a fresh database whose
 * pg_stat_database row counts this run's transactions only.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pg from 'pg';
import { WebSocket } from 'ws';
import { cpuSeconds, frameMessages, sendStreamStart } from './bench-load.js';
import { parseStreamTwiml, postTwilioWebhook, randomSid, signTwilio, type StreamInstruction } from '../src/simulator/index.js';
import { POSTGRES_ADMIN_URL } from '../test/helpers/postgres.js';
import { CLUSTER_ACCOUNT_SID, CLUSTER_PUBLIC_URL, startCluster, type ClusterNode, type TestCluster } from '../test/cluster/harness.js';
import { freePort } from '../src/simulator/free-port.js';

const CALLS_PER_NODE = Number(process.env.BENCH_CALLS_PER_NODE ?? 40);
const MEASURE_MS = Number(process.env.BENCH_SECONDS ?? 10) * 1000;
/** BENCH_NODES: the cluster sizes measured after the baseline. */
const CLUSTER_SIZES = (process.env.BENCH_NODES ?? '1,2,3').split(',').filter(Boolean).map(Number);
const IDLE_MS = 3_000;
/** One agent identity takes every call here: its limits on capture starts and its anomaly alert are lifted, the rest is as shipped. */
const BENCH_CONFIG = { log: { level: 'warn' }, http: { captureStartsPerMinutePerAgent: 1_000_000 }, audit: { rules: { capturesPerAgentPerHour: 1_000_000 } } };
const WARMUP_MS = 2_000;
const FRAME_MS = 20;
const NODE_CORE = '0';
const GENERATOR_CORE = '1';
/** pg_stat_database hears from each backend at most once a second. */
const PG_STATS_SETTLE_MS = 1_100;

// ── counters of the shared services ───────────────────────────────────────────────────────

async function startPrivateRedis(): Promise<{ url: string; process: ChildProcess }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null });
  probe.on('error', () => undefined);
  for (let i = 0; i < 50; i++) {
    if (await probe.connect().then(() => true, () => false)) break;
    await sleep(100);
  }
  probe.disconnect();
  return { url, process: child };
}

/** Commands Redis has run since it started, the benchmark's own INFO and CONFIG excepted. */
async function redisCommands(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  let total = 0;
  for (const match of info.matchAll(/^cmdstat_([a-z|_-]+):calls=(\d+)/gm)) {
    if (match[1] !== 'info' && match[1] !== 'config|resetstat') total += Number(match[2]);
  }
  return total;
}

/** Transactions committed and rolled back in one database. */
async function pgTransactions(admin: pg.Client, database: string): Promise<number> {
  const { rows } = await admin.query<{ n: string }>('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1', [database]);
  return Number(rows[0]?.n ?? 0);
}

// ── load generator ────────────────────────────────────────────────────────────────────────

interface Leg {
  ws: WebSocket;
  streamSid: string;
  callSid: string;
  messages: Buffer[];
  sent: number;
  received: number;
  node: string;
}

interface BenchCall {
  callSid: string;
  legs: Leg[];
}

/**
 * Opens one leg where its stream instruction says, signed over that URL as Twilio signs the
 * upgrade. A single node names its public URL (a load balancer's): the stream goes to `via`.
 */
async function openLeg(cluster: TestCluster, via: ClusterNode, callSid: string, stream: StreamInstruction, seed: number): Promise<Leg> {
  const streamSid = randomSid('MZ');
  const publicWs = CLUSTER_PUBLIC_URL.replace(/^http/, 'ws');
  const connect = stream.url.startsWith(publicWs) ? via.url.replace(/^http/, 'ws') + stream.url.slice(publicWs.length) : stream.url;
  const port = Number(new URL(connect).port);
  const node = cluster.nodes.find((n) => n.port === port)?.id ?? '?';
  const ws = new WebSocket(connect, { headers: { 'x-twilio-signature': signTwilio(cluster.authToken, stream.url, {}) }, perMessageDeflate: false, skipUTF8Validation: true });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  sendStreamStart(ws, { accountSid: CLUSTER_ACCOUNT_SID, streamSid, callSid, parameters: stream.parameters });
  const leg: Leg = { ws, streamSid, callSid, messages: frameMessages(streamSid, seed), sent: 0, received: 0, node };
  ws.on('message', (data: Buffer) => {
    if (data.indexOf('"event":"media"') === 1) leg.received++;
  });
  return leg;
}

async function dial(cluster: TestCluster, via: ClusterNode, agentVia: ClusterNode, n: number): Promise<BenchCall> {
  const callSid = randomSid('CA');
  const inbound = await postTwilioWebhook(cluster.target(via), '/twilio/voice/inbound', { AccountSid: CLUSTER_ACCOUNT_SID, CallSid: callSid, From: '+15005550006', To: '+15005550001', CallStatus: 'ringing' });
  const callerStream = parseStreamTwiml(inbound.body);
  if (!callerStream) throw new Error(`inbound webhook answered ${inbound.status}`);
  const caller = await openLeg(cluster, via, callSid, callerStream, n * 2 + 1);
  const { request, callSid: agentSid } = await cluster.standIn.waitForCall((r) => r.params.Url?.endsWith(`call=${callSid}`));
  const answer = await postTwilioWebhook(cluster.target(agentVia), request.params.Url, { AccountSid: CLUSTER_ACCOUNT_SID, CallSid: agentSid, CallStatus: 'in-progress' });
  const agentStream = parseStreamTwiml(answer.body);
  if (!agentStream) throw new Error(`agent webhook answered ${answer.status}`);
  const agent = await openLeg(cluster, agentVia, agentSid, agentStream, n * 2 + 2);
  return { callSid, legs: [caller, agent] };
}

const CAPTURE_KEYS = '4111111111111111#1230737';

/** The agent starts a card capture (through another node than the one carrying the call) and the caller keys it as DTMF events; resolves to the final state. */
async function capture(cluster: TestCluster, call: BenchCall, via: ClusterNode, token: string): Promise<string> {
  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${via.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) }).then(
      async (r) => ((await r.json()) as { view?: { id: string; state: string } }).view,
    );
  const started = await api('POST', `/v1/calls/${call.callSid}/captures`, { fields: ['card_number', 'expiry', 'cvv'] });
  if (!started) return 'refused';
  const caller = call.legs[0];
  for (const [i, digit] of [...CAPTURE_KEYS].entries()) {
    caller.ws.send(JSON.stringify({ event: 'dtmf', streamSid: caller.streamSid, sequenceNumber: String(100_000 + i), dtmf: { track: 'inbound_track', digit } }));
    await sleep(80);
  }
  for (let i = 0; i < 100; i++) {
    const view = await api('GET', `/v1/captures/${started.id}`);
    if (view && view.state !== 'active' && view.state !== 'tokenizing') return view.state;
    await sleep(100);
  }
  return 'timeout';
}

async function hangUp(cluster: TestCluster, call: BenchCall, via: ClusterNode): Promise<void> {
  for (const leg of call.legs) leg.ws.send(JSON.stringify({ event: 'stop', streamSid: leg.streamSid, stop: { accountSid: CLUSTER_ACCOUNT_SID, callSid: leg.callSid } }));
  await postTwilioWebhook(cluster.target(via), '/twilio/status/call', { AccountSid: CLUSTER_ACCOUNT_SID, CallSid: call.callSid, CallStatus: 'completed' });
  for (const leg of call.legs) leg.ws.terminate();
}

/** Every leg sends its frames on time (each call on its own phase in the 20 ms period) for `ms`. */
async function talk(calls: BenchCall[], ms: number): Promise<void> {
  const started = performance.now();
  const legs = calls.flatMap((c) => c.legs);
  const base = legs.map((l) => l.sent);
  const phase = legs.map((_, i) => (i * FRAME_MS) / legs.length);
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - started;
      legs.forEach((leg, i) => {
        const due = base[i] + Math.floor((elapsed - phase[i]) / FRAME_MS) + 1;
        while (leg.sent < due && leg.ws.readyState === WebSocket.OPEN) {
          leg.ws.send(leg.messages[leg.sent % leg.messages.length], { binary: false });
          leg.sent++;
        }
      });
      if (elapsed >= ms) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
}

// ── phases ────────────────────────────────────────────────────────────────────────────────

interface Phase {
  label: string;
  nodes: number;
  clusterMode: boolean;
  calls: number;
  callsByNode: Record<string, number>;
  /** Share of one core each node used while the calls talked. */
  cpuByNode: Record<string, number>;
  callsPerCore: number;
  framesBackPerFrameSent: number;
  /** Calls whose two legs streamed to different nodes (pinning should make it 0). */
  splitCalls: number;
  /** Captures that completed (one per call). */
  captures: { complete: number; of: number };
  /** What the shared services did: per call (set-up, talk and hang-up together), per call-second of talk, per idle node-second (heartbeats). */
  redis: ServiceCost;
  postgres: ServiceCost;
}

interface ServiceCost {
  /** Set-up and hang-up of one call. */
  perCall: number;
  perCallSecond: number;
  /** One card capture, tokenized. */
  perCapture: number;
  perIdleNodeSecond: number;
}

interface Sample {
  at: number;
  redis: number;
  postgres: number;
}

async function runPhase(label: string, nodes: number, clusterMode: boolean, redisUrl: string, admin: pg.Client): Promise<Phase> {
  const cluster = await startCluster({ nodes, label: 'bench', redisUrl, shared: clusterMode, config: BENCH_CONFIG });
  const redis = new Redis(redisUrl);
  const sample = async (): Promise<Sample> => ({ at: performance.now(), redis: await redisCommands(redis), postgres: await pgTransactions(admin, cluster.database.name) });
  /** pg_stat_database lags: a busy backend reports each second, an idle one within 10 s; wait until the count stops moving. */
  const settled = async (): Promise<Sample> => {
    let last = await sample();
    for (let quiet = 0, i = 0; quiet < 3 && i < 15; i++) {
      await sleep(PG_STATS_SETTLE_MS);
      const next = await sample();
      quiet = next.postgres === last.postgres ? quiet + 1 : 0;
      last = { ...next, at: last.postgres === next.postgres ? last.at : next.at };
    }
    return last;
  };
  try {
    for (const node of cluster.nodes) execFileSync('taskset', ['-a', '-cp', NODE_CORE, String(node.process?.pid)], { stdio: 'ignore' });
    const idleStart = await settled();
    await sleep(IDLE_MS);
    const idleEnd = await sample();
    const seconds = (from: Sample, to: Sample) => (to.at - from.at) / 1000;
    const idleRate = { redis: (idleEnd.redis - idleStart.redis) / seconds(idleStart, idleEnd), postgres: (idleEnd.postgres - idleStart.postgres) / seconds(idleStart, idleEnd) };

    const total = CALLS_PER_NODE * nodes;
    const calls: BenchCall[] = [];
    for (let i = 0; i < total; i += 10) {
      const batch = Array.from({ length: Math.min(10, total - i) }, (_, j) => dial(cluster, cluster.nodes[(i + j) % nodes], cluster.nodes[(i + j + 1) % nodes], i + j));
      calls.push(...(await Promise.all(batch)));
    }
    await talk(calls, WARMUP_MS);
    const talkStart = await sample();
    const cpuStart = cluster.nodes.map((n) => cpuSeconds(n.process?.pid ?? 0));
    const receivedStart = calls.flatMap((c) => c.legs.map((l) => l.received));
    const sentStart = calls.flatMap((c) => c.legs.map((l) => l.sent));
    await talk(calls, MEASURE_MS);
    const talkEnd = await sample();
    const cpuShare = cluster.nodes.map((n, i) => (cpuSeconds(n.process?.pid ?? 0) - cpuStart[i]) / seconds(talkStart, talkEnd));
    await talk(calls, 300);
    const received = calls.flatMap((c) => c.legs.map((l) => l.received)).reduce((sum, r, i) => sum + r - receivedStart[i], 0);
    const sent = calls.flatMap((c) => c.legs.map((l) => l.sent)).reduce((sum, n, i) => sum + n - sentStart[i], 0);

    const token = await cluster.agentToken();
    const captureStart = await settled();
    const states: string[] = [];
    for (let i = 0; i < total; i += 10) {
      states.push(...(await Promise.all(calls.slice(i, i + 10).map((call, j) => capture(cluster, call, cluster.nodes[(i + j + 1) % nodes], token)))));
    }
    const captureEnd = await settled();

    await Promise.all(calls.map((call, i) => hangUp(cluster, call, cluster.nodes[i % nodes])));
    const ended = await settled();

    const callsByNode: Record<string, number> = {};
    for (const call of calls) callsByNode[call.legs[0].node] = (callsByNode[call.legs[0].node] ?? 0) + 1;
    const talkSeconds = seconds(talkStart, talkEnd);
    const completed = states.filter((state) => state === 'complete').length;
    /** What a window cost beyond the nodes' idle work and the live calls' per-second work. */
    const cost = (key: 'redis' | 'postgres'): ServiceCost => {
      const talking = (talkEnd[key] - talkStart[key] - idleRate[key] * talkSeconds) / (total * talkSeconds);
      const beyond = (from: Sample, to: Sample, callSecondsLive: number) => to[key] - from[key] - idleRate[key] * seconds(from, to) - talking * callSecondsLive;
      const setup = beyond(idleEnd, talkStart, (total * WARMUP_MS) / 1000);
      const teardown = beyond(captureEnd, ended, 0);
      return {
        perCall: round((setup + teardown) / total, 2),
        perCallSecond: round(talking, 3),
        perCapture: round(beyond(captureStart, captureEnd, total * seconds(captureStart, captureEnd)) / Math.max(1, completed), 2),
        perIdleNodeSecond: round(idleRate[key] / nodes, 2),
      };
    };
    return {
      label,
      nodes,
      clusterMode,
      calls: total,
      callsByNode,
      cpuByNode: Object.fromEntries(cluster.nodes.map((n, i) => [n.id, round(cpuShare[i], 3)])),
      callsPerCore: Math.round(total / cpuShare.reduce((a, b) => a + b, 0)),
      framesBackPerFrameSent: round(received / Math.max(1, sent), 4),
      splitCalls: calls.filter((call) => call.legs[0].node !== call.legs[1].node).length,
      captures: { complete: completed, of: total },
      redis: cost('redis'),
      postgres: cost('postgres'),
    };
  } finally {
    redis.disconnect();
    await cluster.close();
  }
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));

async function main(): Promise<void> {
  execFileSync('taskset', ['-a', '-cp', GENERATOR_CORE, String(process.pid)], { stdio: 'ignore' });
  const privateRedis = await startPrivateRedis();
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  process.stdout.write(
    `bench:cluster: ${CALLS_PER_NODE} calls per node (both legs at 50 frames/s), ${MEASURE_MS / 1000} s measured; nodes on core ${NODE_CORE}, load on core ${GENERATOR_CORE}; a private Redis at ${privateRedis.url}\n`,
  );
  try {
    const phases: Phase[] = [];
    const plan: [string, number, boolean][] = [
      ['baseline: 1 node, single-node mode', 1, false],
      ...CLUSTER_SIZES.map((n): [string, number, boolean] => [`cluster: ${n} node${n > 1 ? 's' : ''}`, n, true]),
    ];
    for (const [label, nodes, clusterMode] of plan) {
      const phase = await runPhase(label, nodes, clusterMode, privateRedis.url, admin);
      phases.push(phase);
      process.stdout.write(`${JSON.stringify(phase)}\n`);
    }
    const baseline = phases[0].callsPerCore;
    for (const phase of phases) {
      const perNode = Object.entries(phase.callsByNode).map(([id, n]) => `${id} ${n}`).join(', ');
      process.stdout.write(
        `  ${phase.label.padEnd(36)} calls per core ${String(phase.callsPerCore).padStart(4)} (${round(phase.callsPerCore / baseline, 2)}× baseline); calls by node: ${perNode}; node CPU ${Object.values(phase.cpuByNode).map((c) => `${Math.round(c * 100)}%`).join(' + ')}; frames back per frame sent ${phase.framesBackPerFrameSent}\n` +
          `  ${''.padEnd(36)} captures ${phase.captures.complete}/${phase.captures.of}; Redis: ${phase.redis.perCall} commands per call, ${phase.redis.perCallSecond} per call-second, ${phase.redis.perCapture} per capture, ${phase.redis.perIdleNodeSecond} per idle node-second; PostgreSQL: ${phase.postgres.perCall} transactions per call, ${phase.postgres.perCallSecond} per call-second, ${phase.postgres.perCapture} per capture, ${phase.postgres.perIdleNodeSecond} per idle node-second\n`,
      );
    }
    process.stdout.write(
      `${JSON.stringify({ callsPerCoreRatio: phases.map((p) => ({ label: p.label, ratio: round(p.callsPerCore / baseline, 2) })), note: 'all node processes share one core on this 2-core machine: calls per core, not per machine, is the figure that scales' })}\n`,
    );
  } finally {
    await admin.end();
    privateRedis.process.kill('SIGTERM');
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:cluster failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
