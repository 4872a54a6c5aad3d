import { mintDevToken } from '../agent/dev-issuer.js';
import { createLogger } from '../audit/logger.js';
import { parseConfig, type Config } from '../config/index.js';
import { startServer, type RunningServer } from '../server.js';
import { playerKit, type ScenarioResult } from '../simulator/index.js';
import { stringFlag, type ParsedArgs } from './args.js';
import { demoCaller } from './demo-caller.js';
import { runSimulation } from './simulate-call.js';

const say = (line: string): void => void process.stdout.write(`• ${line}\n`);

/** One line per call played from the desktop's "Simulate a caller": outcome and figures, never a digit. */
function reportSimulatedCall(outcome: ScenarioResult | Error): void {
  if (outcome instanceof Error) return say(`simulated call failed: ${outcome.message}`);
  const { capture, agentHeard } = outcome;
  say(`simulated call ${outcome.callId}: capture ${capture.state}; the agent heard ${agentHeard.digits.length} DTMF digits in ${agentHeard.seconds} s`);
}

/** Until Ctrl+C (or SIGTERM): prints where the desktop is and how to sign in. */
async function watch(server: RunningServer, config: Config, agentId: string): Promise<void> {
  say(`desktop: ${server.url}/desktop/ — press "Get dev token" as agent ${agentId} (the development sign-in), then "Simulate a caller"`);
  say(`or paste this development token for ${agentId}: ${await mintDevToken(config, { sub: agentId, role: 'agent' })}`);
  say('the service keeps running; press Ctrl+C to stop it');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

/**
 * `toneguard demo [--provider NAME] [--watch]`: the service in-process on embedded development
 * defaults (free port, `./data` unless TONEGUARD_DATA_DIR says otherwise, the provider's REST API
 * pointed at the simulator's stand-in, generated provider credentials), then `simulate-call` as that
 * provider (Twilio by default) against it. With `--watch` the service stays up afterwards and its
 * desktop offers "Simulate a caller".
 */
export async function demoCommand(args: ParsedArgs): Promise<number> {
  const watching = args.flags.get('watch') === true;
  const kit = playerKit(stringFlag(args, 'provider'));
  const standIn = await kit.startStandIn();
  const config = parseConfig({
    profile: 'development',
    host: '127.0.0.1',
    port: 0,
    dataDir: process.env.TONEGUARD_DATA_DIR ?? './data',
    publicUrl: 'https://toneguard.demo',
    log: { level: 'warn' },
    ...standIn.demoSettings(),
  });
  const agentId = kit.agentId(config);
  const caller = demoCaller({ agentId, service: () => ({ url: server.url, config }), standIn, onFinished: reportSimulatedCall });
  const server: RunningServer = await startServer(config, {
    logger: createLogger({ level: 'warn', destination: process.stderr }),
    ...(watching ? { callerSimulator: caller } : {}),
  });
  say(`Toneguard demo service on ${server.url} (development profile, data in ${config.dataDir}), played as ${kit.name}`);
  try {
    const status = await runSimulation({ config, baseUrl: server.url, kit, standIn });
    if (watching) await watch(server, config, agentId);
    return status;
  } finally {
    await server.close();
    await standIn.close();
  }
}
