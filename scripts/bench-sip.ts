/**
 * `npm run bench:sip`: the same SIPp load (N concurrent calls of G.711 μ-law in 20 ms packets, the
 * agent's phone talking back) through the same Kamailio (config/sip/kamailio.cfg), first with
 * Sipwise rtpengine in userspace (`--table=-1`), then with Toneguard (`toneguard serve` in SIP
 * mode), in the same run. It reports, per load and relay, the relay process's CPU time per
 * call-second (from /proc/<pid>/stat) as calls per core, the ratio Toneguard/rtpengine, and the
 * share of the callers' packets delivered to the agent's sink. Goal: ≥ 0.5× with ≥ 99% delivered.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { concat, silence, toInt16 } from '../src/dsp/signals.js';
import { speech } from '../test/dsp/tools.js';
import { pcmuPackets } from '../test/sip/harness/media.js';
import { writePcap } from '../test/sip/harness/pcap.js';
import { cpuSeconds } from '../test/sip/harness/proc.js';
import { startRtpengine, type Relay } from '../test/sip/harness/relay.js';
import { startScene } from '../test/sip/harness/scene.js';
import { callerScenario } from '../test/sip/harness/sipp.js';
import { startToneguardServe } from '../test/sip/harness/toneguard.js';

/** BENCH_CALLS: concurrent-call loads, each run against both relays. */
const LOADS = (process.env.BENCH_CALLS ?? '50,100').split(',').map(Number);
/** BENCH_SECONDS: how long each call streams. */
const CALL_SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const RATIO_GOAL = 0.5;
const DELIVERED_GOAL = 0.99;

const sip = resolve(import.meta.dirname, '../src/telephony/sip');
const toneguardRelayMerged = existsSync(join(sip, 'ng')) && readdirSync(join(sip, 'relay')).some((f) => f !== 'types.ts');

interface Phase {
  relay: Relay['kind'];
  calls: number;
  failedCalls: boolean;
  cpuSeconds: number;
  callSeconds: number;
  /** Calls one core of the relay would carry: call-seconds per CPU-second. */
  callsPerCore: number;
  delivered: number;
  /** Packets missing inside the streams the sink received (sequence gaps: lost on the way or at the sink). */
  gaps: number;
}

/** Speech, repeated with pauses, for `seconds`: what every bench caller says (no keypresses). */
function callerAudio(seconds: number): Int16Array {
  const phrase = Float64Array.from(speech('en-us', 'I would like to check the balance on my account, thank you.'));
  const parts: Float64Array[] = [];
  let samples = 0;
  while (samples < seconds * 8000) {
    parts.push(phrase, silence(700));
    samples += phrase.length + 5600;
  }
  return toInt16(concat(...parts)).subarray(0, seconds * 8000);
}

async function phase(relayKind: Relay['kind'], calls: number, pcap: string, packetsPerCall: number): Promise<Phase> {
  const scene = await startScene({
    relay: (dir) => (relayKind === 'rtpengine' ? startRtpengine(dir, { ports: 4 * calls + 200 }) : startToneguardServe(dir)),
    sink: { keepPackets: false, talkBack: true },
    kamailioChildren: 4,
  });
  try {
    // The BYE waits a second after the stream ends, so packets still queued under load are not cut off by the delete.
    const scenario = callerScenario({ steps: [{ pcap, durationMs: CALL_SECONDS * 1000 + 1000 }] });
    const before = cpuSeconds(scene.relay.pid);
    const run = await scene.call(`bench-${calls}`, scenario, { calls, concurrent: calls, rate: Math.max(10, calls) });
    const cpu = cpuSeconds(scene.relay.pid) - before;
    await new Promise((r) => setTimeout(r, 300));
    const callSeconds = calls * CALL_SECONDS;
    return {
      relay: relayKind,
      calls,
      failedCalls: run.code !== 0,
      cpuSeconds: cpu,
      callSeconds,
      callsPerCore: cpu > 0 ? callSeconds / cpu : Infinity,
      delivered: scene.sink.received / (calls * packetsPerCall),
      gaps: scene.sink.streams().reduce((n, s) => n + Math.max(0, s.sequenceSpan - s.count), 0),
    };
  } finally {
    await scene.stop();
  }
}

const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'toneguard-bench-sip-'));
  const packets = pcmuPackets(callerAudio(CALL_SECONDS), 0x0bec0001);
  const pcap = join(dir, 'caller.pcap');
  writePcap(pcap, packets);
  console.log(`bench:sip: ${LOADS.join(', ')} concurrent calls × ${CALL_SECONDS} s, G.711 μ-law 20 ms both ways, through Kamailio`);
  if (!toneguardRelayMerged) console.log('Toneguard half: PENDING (src/telephony/sip/ng and the RTP relay are not merged yet); running rtpengine only');

  const results: Phase[] = [];
  for (const calls of LOADS) {
    const relays: Relay['kind'][] = toneguardRelayMerged ? ['rtpengine', 'toneguard'] : ['rtpengine'];
    for (const kind of relays) {
      const r = await phase(kind, calls, pcap, packets.length);
      results.push(r);
      console.log(
        `${String(calls).padStart(4)} calls  ${kind.padEnd(9)}  cpu ${r.cpuSeconds.toFixed(2)} s for ${r.callSeconds} call-s  ` +
          `→ ${r.callsPerCore.toFixed(0)} calls/core  delivered ${pct(r.delivered)} (sequence gaps at the sink: ${r.gaps})${r.failedCalls ? '  (some SIP calls failed)' : ''}`,
      );
    }
  }
  const summary = LOADS.map((calls) => {
    const base = results.find((r) => r.calls === calls && r.relay === 'rtpengine')!;
    const tg = results.find((r) => r.calls === calls && r.relay === 'toneguard');
    const ratio = tg ? tg.callsPerCore / base.callsPerCore : null;
    if (tg) {
      const ok = ratio! >= RATIO_GOAL && tg.delivered >= DELIVERED_GOAL;
      console.log(`${String(calls).padStart(4)} calls  Toneguard/rtpengine calls per core ${ratio!.toFixed(2)}× (goal ≥ ${RATIO_GOAL}×), delivered ${pct(tg.delivered)} (goal ≥ ${pct(DELIVERED_GOAL)}) ${ok ? 'OK' : 'BELOW GOAL'}`);
    }
    return { calls, rtpengine: base, toneguard: tg ?? 'pending', ratio };
  });
  console.log(JSON.stringify({ callSeconds: CALL_SECONDS, loads: summary }));
  rmSync(dir, { recursive: true, force: true });
}

await main();
