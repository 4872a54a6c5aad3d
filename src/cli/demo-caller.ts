import { mintDevToken } from '../agent/dev-issuer.js';
import type { CallerSimulator } from '../agent/simulated-calls.js';
import type { Config } from '../config/index.js';
import { restAgentControl, runCardCaptureScenario, type PlayerStandIn, type ScenarioResult } from '../simulator/index.js';

export interface DemoCallerOptions {
  /** The agent identity the service's calls ring (the provider's agent target). */
  agentId: string;
  /** The service played into: its URL and configuration, known once it listens. */
  service: () => { url: string; config: Config };
  /** The provider's REST stand-in the service's agent calls land on, and its player. */
  standIn: PlayerStandIn;
  /** 1 = real time. */
  speed?: number;
  /** Hears how each simulated call went (never a digit). */
  onFinished?: (outcome: ScenarioResult | Error) => void;
}

/**
 * The desktop's "Simulate a caller" in `toneguard demo --watch`: the scripted card-capture call of
 * `simulate-call`, played into this service one at a time. The scripted agent (the configured
 * agent identity, with a development token) starts the capture; the desktop signed in as that
 * agent watches it.
 */
export function demoCaller(options: DemoCallerOptions): CallerSimulator {
  const { agentId, standIn } = options;
  let playing: Promise<void> | undefined;

  return {
    agentId,
    get busy() {
      return playing !== undefined;
    },
    dial() {
      const { url: baseUrl, config } = options.service();
      let bridged!: (callSid: string) => void;
      const dialed = new Promise<string>((resolve) => (bridged = resolve));
      const scenario = runCardCaptureScenario({
        player: standIn.player({ baseUrl, config }),
        speed: options.speed ?? 1,
        agent: async (call) => {
          bridged(call.callId);
          return restAgentControl(baseUrl, await mintDevToken(config, { sub: agentId, role: 'agent' }));
        },
      });
      playing = scenario.then(
        (result) => options.onFinished?.(result),
        (err: unknown) => options.onFinished?.(err instanceof Error ? err : new Error(String(err))),
      );
      void playing.finally(() => (playing = undefined));
      return Promise.race([dialed, scenario.then(() => dialed)]).then((callSid) => ({ callSid }));
    },
  };
}
