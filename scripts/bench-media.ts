/**
 * `npm run bench:media`: at 100 and 200 concurrent calls (both legs at 50 frames/s), the Toneguard
 * service against a plain `ws` relay of the same frames, back to back in the same run. Each server
 * runs in a child process pinned to one core; this process, pinned to the other, generates the load
 * and times each frame from send to arrival at the other leg (the masker's lookahead delays audio
 * content, not messages, so it is excluded). It prints, per load, calls per core (calls over the
 * share of the core the server used) and the frame p99, each as a ratio against the relay. On a
 * shared virtual machine one phase's CPU moves by a tenth or more from one minute to the next, so
 * the phases are repeated in rounds, in alternating order, and each load is judged by the median
 * of its rounds' ratios.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket, WebSocketServer } from 'ws';
import { createLogger } from '../src/audit/logger.js';
import { parseConfig } from '../src/config/index.js';
import { startServer } from '../src/server.js';
import { SERVE_NODE_FLAGS } from '../src/cli/node-flags.js';
import { cpuSeconds, frameMessages, sendStreamStart } from './bench-load.js';
import {
  parseStreamTwiml,
  postTwilioWebhook,
  randomSid,
  signTwilio,
  startTwilioRestStandIn,
  type TwilioRestStandIn,
  type TwilioTarget,
} from '../src/simulator/index.js';

const ACCOUNT_SID = 'AC' + '0'.repeat(32);
const AUTH_TOKEN = 'bench-auth-token';
const PUBLIC_URL = 'https://toneguard.bench';
const FRAME_MS = 20;
const WARMUP_MS = 2000;
/** BENCH_SECONDS: measured seconds per phase (after the warm-up). */
const MEASURE_MS = Number(process.env.BENCH_SECONDS ?? 8) * 1000;
/** BENCH_CALLS: the concurrent-call loads, each run against both servers. */
const LOADS = (process.env.BENCH_CALLS ?? '100,200').split(',').map(Number);
/** BENCH_ROUNDS: how many times the whole set of phases is repeated; each load is judged by the median round. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** The servers run on this core, the load generator on the other. */
const SERVER_CORE = '0';
const GENERATOR_CORE = '1';
const CALLS_PER_CORE_GOAL = 0.8;
const P99_RATIO_LIMIT = 1.5;
/** Above this event-loop utilisation the generator itself delays frames: the latencies it measures are its own. */
const GENERATOR_SATURATED = 0.9;
/** BENCH_TIMELINE=1 also prints each phase's p99 per half second: periodic stalls show as a beat. */
const TIMELINE = Boolean(process.env.BENCH_TIMELINE);

type Kind = 'toneguard' | 'relay';
/**
 * BENCH_AGAINST=DIR turns the run into an A/B of two builds: the baseline phases serve Toneguard
 * from the checkout at DIR (with its own node_modules) instead of the relay, and the ratios (still
 * labelled relay in the JSON) are against that build. BENCH_FLAGS_A: Node flags for this build's
 * server only (to A/B a flag).
 */
const AGAINST = process.env.BENCH_AGAINST;
const label = (kind: Kind) => (kind === 'relay' && AGAINST ? 'baseline' : kind);

// ── server side (child processes) ──────────────────────────────────────────────────────────

async function serveToneguard(apiBaseUrl: string): Promise<number> {
  const config = parseConfig({
    host: '127.0.0.1',
    port: 0,
    dataDir: mkdtempSync(join(tmpdir(), 'toneguard-bench-')),
    publicUrl: PUBLIC_URL,
    log: { level: 'error' },
    http: { requestsPerMinutePerIp: 1_000_000, upgradesPerMinutePerIp: 1_000_000 },
    twilio: { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, apiBaseUrl },
  });
  const server = await startServer(config, { logger: createLogger({ level: 'error', destination: process.stderr }) });
  return server.port;
}

/**
 * The baseline: a plain relay that pairs a call's two sockets by their session parameter, then for
 * every message parses the JSON, decodes the base64 payload, re-encodes it and forwards a media message.
 */
async function serveRelay(): Promise<number> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  const waiting = new Map<string, { ws: WebSocket; streamSid: string }>();
  wss.on('connection', (ws) => {
    let peer: WebSocket | undefined;
    let peerStreamSid = '';
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString()) as { event: string; streamSid?: string; media?: { payload: string }; start?: { customParameters: { session: string } } };
      if (peer) {
        if (message.event !== 'media' || !message.media || peer.readyState !== WebSocket.OPEN) return;
        const audio = Buffer.from(message.media.payload, 'base64');
        peer.send(JSON.stringify({ event: 'media', streamSid: peerStreamSid, media: { payload: audio.toString('base64') } }));
        return;
      }
      if (message.event !== 'start' || !message.start) return;
      const session = message.start.customParameters.session;
      const streamSid = message.streamSid ?? '';
      const other = waiting.get(session);
      if (!other) return void waiting.set(session, { ws, streamSid });
      waiting.delete(session);
      peer = other.ws;
      peerStreamSid = other.streamSid;
      other.ws.emit('paired', ws, streamSid);
    });
    ws.on('paired', (other: WebSocket, streamSid: string) => {
      peer = other;
      peerStreamSid = streamSid;
    });
  });
  await new Promise((resolve) => wss.once('listening', resolve));
  return (wss.address() as { port: number }).port;
}

// ── load generator ────────────────────────────────────────────────────────────────────────

interface Leg {
  ws: WebSocket;
  messages: Buffer[];
  sent: number;
  /** Send time of each frame, by index. */
  sentAt: Float64Array;
  /** Media messages received before measurement started (ringback). */
  receivedOffset: number;
  received: number;
}

interface BenchCall {
  legs: [Leg, Leg];
}

const TEXT_FRAME = { binary: false } as const;
/** Both servers' media messages start `{"event":"media"`. */
const MEDIA_EVENT = Buffer.from('"event":"media"');

const MAX_FRAMES = ((WARMUP_MS + MEASURE_MS) / FRAME_MS) * 2;

async function openLeg(port: number, callSid: string, parameters: Record<string, string>, seed: number): Promise<Leg> {
  const streamSid = randomSid('MZ');
  const ws = new WebSocket(`ws://127.0.0.1:${port}/media/twilio`, {
    headers: { 'x-twilio-signature': signTwilio(AUTH_TOKEN, `${PUBLIC_URL.replace(/^http/, 'ws')}/media/twilio`, {}) },
    perMessageDeflate: false,
    // The generator must not be what limits the run: no UTF-8 check of what it receives, a constant mask.
    skipUTF8Validation: true,
    generateMask: (mask) => void mask.fill(0),
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  sendStreamStart(ws, { accountSid: ACCOUNT_SID, streamSid, callSid, parameters });
  return { ws, messages: frameMessages(streamSid, seed), sent: 0, sentAt: new Float64Array(MAX_FRAMES), receivedOffset: 0, received: 0 };
}

async function dialToneguard(port: number, standIn: TwilioRestStandIn, n: number): Promise<BenchCall> {
  const target: TwilioTarget = { baseUrl: `http://127.0.0.1:${port}`, publicUrl: PUBLIC_URL, authToken: AUTH_TOKEN };
  const callSid = randomSid('CA');
  const inbound = await postTwilioWebhook(target, '/twilio/voice/inbound', { AccountSid: ACCOUNT_SID, CallSid: callSid, From: '+15005550006', To: '+15005550001' });
  const callerStream = parseStreamTwiml(inbound.body);
  if (!callerStream) throw new Error(`inbound webhook answered ${inbound.status}`);
  const caller = await openLeg(port, callSid, callerStream.parameters, n * 2 + 1);
  const { request, callSid: agentSid } = await standIn.waitForCall((r) => r.params.Url.endsWith(`call=${callSid}`));
  const agentAnswer = await postTwilioWebhook(target, request.params.Url, { AccountSid: ACCOUNT_SID, CallSid: agentSid });
  const agentStream = parseStreamTwiml(agentAnswer.body);
  if (!agentStream) throw new Error(`agent webhook answered ${agentAnswer.status}`);
  const agent = await openLeg(port, agentSid, agentStream.parameters, n * 2 + 2);
  return { legs: [caller, agent] };
}

async function dialRelay(port: number, n: number): Promise<BenchCall> {
  const session = `s${n}-${Math.random()}`;
  const caller = await openLeg(port, randomSid('CA'), { leg: 'caller', session }, n * 2 + 1);
  const agent = await openLeg(port, randomSid('CA'), { leg: 'agent', session }, n * 2 + 2);
  return { legs: [caller, agent] };
}

interface Trial {
  calls: number;
  /** Share of one core the server used while measuring. */
  serverCpu: number;
  p99Ms: number;
  maxMs: number;
  lost: number;
  generatorUtilisation: number;
}

async function runTrial(kind: Kind, server: { port: number; pid: number }, standIn: TwilioRestStandIn, n: number): Promise<Trial> {
  const { port } = server;
  const calls: BenchCall[] = [];
  for (let i = 0; i < n; i += 20) {
    const batch = Array.from({ length: Math.min(20, n - i) }, (_, j) => (kind === 'toneguard' || AGAINST ? dialToneguard(port, standIn, i + j) : dialRelay(port, i + j)));
    calls.push(...(await Promise.all(batch)));
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
  const latencies: number[] = [];
  const timeline: [number, number][] = [];
  let measuring = false;
  for (const call of calls) {
    call.legs.forEach((leg, i) => {
      const other = call.legs[1 - i];
      leg.receivedOffset = leg.received;
      leg.ws.on('message', (data: Buffer) => {
        if (data.indexOf(MEDIA_EVENT) !== 1) return;
        const index = leg.received++ - leg.receivedOffset;
        if (measuring && index < other.sent) {
          const now = performance.now();
          latencies.push(now - other.sentAt[index]);
          if (TIMELINE) timeline.push([now, now - other.sentAt[index]]);
        }
      });
    });
  }
  for (const call of calls) for (const leg of call.legs) leg.receivedOffset = leg.received;

  // Each call sends on its own phase within the 20 ms period, as independent phones do.
  const started = performance.now();
  const elu = performance.eventLoopUtilization();
  const phase = calls.map((_, i) => (i * FRAME_MS) / calls.length);
  let cpuAtMeasure = 0;
  let measureStarted = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      const elapsed = now - started;
      calls.forEach((call, i) => {
        const due = Math.min(MAX_FRAMES, Math.floor((elapsed - phase[i]) / FRAME_MS) + 1);
        for (const leg of call.legs) {
          while (leg.sent < due) {
            leg.sentAt[leg.sent] = performance.now();
            leg.ws.send(leg.messages[leg.sent % leg.messages.length], TEXT_FRAME);
            leg.sent++;
          }
        }
      });
      if (!measuring && elapsed >= WARMUP_MS) {
        cpuAtMeasure = cpuSeconds(server.pid);
        measureStarted = now;
      }
      measuring = elapsed >= WARMUP_MS;
      if (elapsed >= WARMUP_MS + MEASURE_MS) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  const generatorUtilisation = performance.eventLoopUtilization(elu).utilization;
  // Over the wall time actually measured: a late timer on a loaded machine stretches the phase.
  const serverCpu = (cpuSeconds(server.pid) - cpuAtMeasure) / ((performance.now() - measureStarted) / 1000);
  await new Promise((resolve) => setTimeout(resolve, 300));
  let lost = 0;
  for (const call of calls) {
    call.legs.forEach((leg, i) => {
      lost += call.legs[1 - i].sent - (leg.received - leg.receivedOffset);
    });
    for (const leg of call.legs) leg.ws.terminate();
  }
  if (TIMELINE && timeline.length) process.stdout.write(`    p99 per half second: ${p99PerHalfSecond(timeline)}\n`);
  latencies.sort((a, b) => a - b);
  const p99Ms = latencies.length ? latencies[Math.floor(latencies.length * 0.99)] : Infinity;
  const maxMs = latencies.length ? latencies[latencies.length - 1] : Infinity;
  await new Promise((resolve) => setTimeout(resolve, 500));
  return { calls: n, serverCpu, p99Ms, maxMs, lost, generatorUtilisation };
}

/** `[arrival, latency]` pairs as `t:p99` per half second of arrival. */
function p99PerHalfSecond(timeline: [number, number][]): string {
  const start = timeline[0][0];
  const buckets = new Map<number, number[]>();
  for (const [at, ms] of timeline) {
    const k = Math.floor((at - start) / 500);
    const bucket = buckets.get(k);
    if (bucket) bucket.push(ms);
    else buckets.set(k, [ms]);
  }
  return [...buckets].map(([k, v]) => `${k / 2}s:${v.sort((a, b) => a - b)[Math.floor(v.length * 0.99)].toFixed(1)}`).join(' ');
}

function startChild(kind: Kind, apiBaseUrl: string): Promise<{ child: ChildProcess; port: number; pid: number }> {
  // BENCH_PROFILE=DIR writes a CPU profile of each server child there (on exit); BENCH_TRACE_GC=1 traces its collections.
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const gc = process.env.BENCH_TRACE_GC ? ['--trace-gc'] : [];
  // BENCH_NODE_FLAGS: further flags for both server children (such as --perf-basic-prof for `perf record`).
  const extra = process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
  // Toneguard runs with the flags it ships with (a baseline build too, so that an A/B compares code).
  const shipped = kind === 'toneguard' || AGAINST ? SERVE_NODE_FLAGS : [];
  const own = kind === 'toneguard' ? (process.env.BENCH_FLAGS_A?.split(' ').filter(Boolean) ?? []) : [];
  const baseline = kind === 'relay' && AGAINST !== undefined;
  const script = baseline ? join(AGAINST, 'scripts', 'bench-media.ts') : import.meta.filename;
  const args = [...profile, ...gc, ...extra, ...shipped, ...own, '--import', 'tsx', script, 'serve', baseline ? 'toneguard' : kind, apiBaseUrl];
  const child = spawn('taskset', ['-c', SERVER_CORE, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'inherit'], cwd: baseline ? AGAINST : process.cwd() });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${kind} server exited (${code})`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      const match = /PORT (\d+)/.exec(text);
      if (match) resolve({ child, port: Number(match[1]), pid: child.pid ?? 0 });
      else if (process.env.BENCH_TRACE_GC) process.stderr.write(text);
    });
  });
}

function describe(kind: Kind, t: Trial): string {
  return `  ${label(kind).padEnd(9)} ${String(t.calls).padStart(4)} calls: server CPU ${(t.serverCpu * 100).toFixed(0)}% of a core (${(t.calls / t.serverCpu).toFixed(0)} calls per core), p99 ${t.p99Ms.toFixed(2)} ms, max ${t.maxMs.toFixed(1)} ms, lost ${t.lost}, generator load ${(t.generatorUtilisation * 100).toFixed(0)}%\n`;
}

const round2 = (x: number) => Number(x.toFixed(2));

interface RoundResult {
  calls: number;
  toneguardCallsPerCore: number;
  relayCallsPerCore: number;
  callsPerCoreRatio: number;
  toneguardP99Ms: number;
  relayP99Ms: number;
  p99Ratio: number;
  lost: { toneguard: number; relay: number };
  /** False when a phase lost frames or its generator was saturated: it measured a server doing less work than the load, and its ratios mean nothing. */
  valid: boolean;
}

function roundResult(tg: Trial, rl: Trial): RoundResult {
  return {
    calls: tg.calls,
    toneguardCallsPerCore: Math.round(tg.calls / tg.serverCpu),
    relayCallsPerCore: Math.round(rl.calls / rl.serverCpu),
    callsPerCoreRatio: round2(rl.serverCpu / tg.serverCpu),
    toneguardP99Ms: round2(tg.p99Ms),
    relayP99Ms: round2(rl.p99Ms),
    p99Ratio: round2(tg.p99Ms / rl.p99Ms),
    lost: { toneguard: tg.lost, relay: rl.lost },
    valid: [tg, rl].every((t) => t.lost === 0 && t.generatorUtilisation < GENERATOR_SATURATED),
  };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** One load over its rounds: the median ratios (and their range), judged against the goals only when every round was valid. */
function summarise(calls: number, results: RoundResult[]) {
  const cpc = results.map((r) => r.callsPerCoreRatio);
  const p99 = results.map((r) => r.p99Ratio);
  const valid = results.every((r) => r.valid);
  const callsPerCoreRatio = round2(median(cpc));
  const p99Ratio = round2(median(p99));
  return {
    calls,
    rounds: results.length,
    callsPerCoreRatio,
    callsPerCoreRange: [Math.min(...cpc), Math.max(...cpc)],
    p99Ratio,
    p99Range: [Math.min(...p99), Math.max(...p99)],
    valid,
    meets: valid && callsPerCoreRatio >= CALLS_PER_CORE_GOAL && p99Ratio <= P99_RATIO_LIMIT,
  };
}

async function main(): Promise<void> {
  const [mode, kind, apiBaseUrl] = process.argv.slice(2);
  if (mode === 'serve') {
    const port = kind === 'relay' ? await serveRelay() : await serveToneguard(apiBaseUrl);
    process.once('SIGTERM', () => process.exit(0));
    process.stdout.write(`PORT ${port}\n`);
    return;
  }
  // The whole generator (every thread) on the other core, so that the server's core is its own.
  execFileSync('taskset', ['-a', '-cp', GENERATOR_CORE, String(process.pid)], { stdio: 'ignore' });
  const standIn = await startTwilioRestStandIn();
  process.stdout.write(`bench:media: both legs at 50 frames/s, server on core ${SERVER_CORE}, load on core ${GENERATOR_CORE}, ${MEASURE_MS / 1000} s per phase${AGAINST ? `, against the build at ${AGAINST}` : ''}\n`);
  const servers = { toneguard: await startChild('toneguard', standIn.url), relay: await startChild('relay', standIn.url) };
  const rounds = new Map<number, RoundResult[]>(LOADS.map((n) => [n, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const n of LOADS) {
      // Back to back at the same load, so both see the same neighbours; who goes first alternates, so a drift favours neither.
      const order: Kind[] = round % 2 === 0 ? ['toneguard', 'relay'] : ['relay', 'toneguard'];
      const trials = {} as Record<Kind, Trial>;
      for (const kind of order) {
        trials[kind] = await runTrial(kind, servers[kind], standIn, n);
        process.stdout.write(describe(kind, trials[kind]));
      }
      const result = roundResult(trials.toneguard, trials.relay);
      if (!result.valid) process.stdout.write(`  (not valid at ${n} calls: frames lost or the generator saturated; the machine is too loaded for this load)\n`);
      rounds.get(n)!.push(result);
      process.stdout.write(`${JSON.stringify({ round: round + 1, ...result })}\n`);
    }
  }
  const summaries = LOADS.map((n) => summarise(n, rounds.get(n)!));
  for (const summary of summaries) process.stdout.write(`${JSON.stringify(summary)}\n`);
  for (const server of Object.values(servers)) server.child.kill('SIGTERM');
  await standIn.close();
  process.stdout.write(`${JSON.stringify({ goal: { callsPerCoreRatio: CALLS_PER_CORE_GOAL, p99RatioAtMost: P99_RATIO_LIMIT }, allMet: summaries.every((r) => r.meets) })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:media failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
