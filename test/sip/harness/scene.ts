import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKamailio, type Proxy } from './kamailio.js';
import { requireTool } from './proc.js';
import type { Relay } from './relay.js';
import { agentScenario, runCaller, startAgentPbx, type CallerLoad, type SippRun } from './sipp.js';
import { startMediaSink, type MediaSink } from './sink.js';

/**
 * One SIP test bed on loopback: a relay, Kamailio with config/sip/kamailio.cfg driving it, a
 * SIPp UAS as the agent's PBX whose SDP sends the agent's media to a Node sink; callers are SIPp
 * UACs run with `call`.
 */
export interface Scene {
  readonly dir: string;
  readonly relay: Relay;
  readonly proxy: Proxy;
  readonly pbx: SippRun;
  readonly sink: MediaSink;
  /** Runs a caller scenario to its end; resolves with SIPp's exit code and output. */
  call(name: string, scenario: string, load?: CallerLoad): Promise<{ code: number | null; log: string }>;
  /** The logs of every process, for a failure message. */
  logs(): string;
  stop(): Promise<void>;
}

export function requireSipTools(): void {
  requireTool('kamailio', '-v', 'kamailio');
  requireTool('sipp', '-v', 'sip-tester');
  requireTool('multimon-ng', '-h', 'multimon-ng');
}

export async function startScene(options: {
  relay: (dir: string) => Promise<Relay>;
  answerHeaders?: Record<string, string>;
  sink?: { keepPackets?: boolean; talkBack?: boolean };
  kamailioChildren?: number;
  /** Extra `-A` defines for the cfg, e.g. `WITH_RTPENGINE_BLOCK_DTMF`. */
  kamailioDefines?: string[];
}): Promise<Scene> {
  requireSipTools();
  const dir = mkdtempSync(join(tmpdir(), 'toneguard-sip-'));
  const started: { stop(): Promise<void> }[] = [];
  const stopAll = async (): Promise<void> => {
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
  };
  try {
    const sink = await startMediaSink(options.sink);
    started.push({ stop: () => sink.close() });
    const relay = await options.relay(dir);
    started.push(relay);
    const pbx = await startAgentPbx(dir, agentScenario({ sinkPort: sink.port, answerHeaders: options.answerHeaders }));
    started.push(pbx.daemon);
    const proxy = await startKamailio(dir, { relaySocket: relay.ngSocket, pbxUri: `sip:127.0.0.1:${pbx.port}`, children: options.kamailioChildren, defines: options.kamailioDefines });
    started.push(proxy);
    return {
      dir,
      relay,
      proxy,
      pbx,
      sink,
      call: (name, scenario, load) => runCaller(dir, name, proxy.port, scenario, load),
      logs: () => [`--- ${relay.kind}`, relay.log().slice(-4000), '--- kamailio', proxy.log().slice(-4000), '--- agent PBX (sipp)', pbx.daemon.log().slice(-2000)].join('\n'),
      async stop() {
        await stopAll();
        if (!process.env.TONEGUARD_SIP_KEEP) rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
