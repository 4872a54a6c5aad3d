import { loadConfig, type Config } from '../config/index.js';
import { mintDevToken } from '../agent/dev-issuer.js';
import { playerKit, restAgentControl, runCardCaptureScenario, SIMULATED_CALLER, type AgentControl, type PlayerKit, type PlayerStandIn, type ScenarioResult } from '../simulator/index.js';
import { startCrmStandIn } from '../verification/crm-stand-in.js';
import { stringFlag, usageError, type ParsedArgs } from './args.js';
import { configWithSettings, readSimulatorSettings, simulatorSettingsPath } from './simulator-settings.js';

/** The simulated agent acts through the agent REST API, with a token from the development issuer. */
async function agentControl(config: Config, baseUrl: string, kit: PlayerKit): Promise<AgentControl> {
  return restAgentControl(baseUrl, await mintDevToken(config, { sub: kit.agentId(config), role: 'agent' }));
}

export interface SimulationSetup {
  config: Config;
  baseUrl: string;
  /** The provider the call is played as, and its REST stand-in. */
  kit: PlayerKit;
  standIn: PlayerStandIn;
  /** Verify the caller with a one-time code before the card (`--verify ACCOUNT_REF`). */
  verify?: { accountRef: string };
}

/** Plays the demo call and prints what happened; the last line is the JSON summary. Returns the exit code. */
export async function runSimulation(setup: SimulationSetup): Promise<number> {
  const { config, baseUrl, kit, standIn, verify } = setup;
  const say = (line: string) => process.stdout.write(`• ${line}\n`);
  const messages = standIn.messages;
  if (verify && !messages) throw usageError(`simulate-call: --verify reads the one-time code off the Twilio stand-in's Messages API; use it with --provider twilio`);
  const result: ScenarioResult = await runCardCaptureScenario({
    player: standIn.player({ baseUrl, config }),
    agent: async () => agentControl(config, baseUrl, kit),
    say,
    ...(verify && messages ? { verify: { accountRef: verify.accountRef, messages } } : {}),
  });
  const card = result.capture.fields.find((f) => f.kind === 'card_number');
  say(`the agent heard ${result.agentHeard.seconds} s of caller audio; ${result.agentHeard.decoder} decodes ${result.agentHeard.digits.length} DTMF digits in it`);
  say(`capture ${result.capture.state}: ${result.capture.fields.map((f) => `${f.name}=${f.state}`).join(', ')}${card?.brand ? `, ${card.brand} ending ${card.last4 ?? '?'}` : ''}`);
  say(`token: ${result.capture.result?.token ?? '(none)'}`);
  say(result.success ? 'OK: the agent heard no digits and received only a token' : 'FAILED: see the summary');
  process.stdout.write(
    `${JSON.stringify({ success: result.success, provider: kit.name, callSid: result.callId, agentHeard: result.agentHeard, speech: result.speechSource, capture: result.capture, verification: result.verification })}\n`,
  );
  return result.success ? 0 : 1;
}

/** Where the service sends a request a stand-in must answer: a local http://127.0.0.1:PORT, set for the service and here. */
function standInPort(configured: string | null, variable: string, standIn: string): number {
  const url = configured ? new URL(configured) : undefined;
  const local = url?.protocol === 'http:' && (url.hostname === '127.0.0.1' || url.hostname === 'localhost');
  if (!url || !local || !url.port) throw usageError(`simulate-call: set ${variable} to a local http://127.0.0.1:PORT (for the service and here); the ${standIn} listens there`);
  return Number(url.port);
}

/**
 * `toneguard simulate-call [--url URL] [--data-dir DIR] [--provider NAME] [--verify ACCOUNT_REF]`:
 * plays a whole call against a running service, acting as the provider (Twilio by default); with
 * `--verify`, also as the CRM, where the caller's number is on file. A development service on this
 * machine publishes its settings in its data directory, so nothing needs setting up; otherwise the
 * provider's variables must match the service's.
 */
export async function simulateCallCommand(args: ParsedArgs): Promise<number> {
  const dataDir = stringFlag(args, 'data-dir');
  const local = loadConfig(dataDir ? { overrides: { dataDir } } : {});
  const settings = readSimulatorSettings(local.dataDir);
  const config = settings ? configWithSettings(local, settings) : local;
  const baseUrl = stringFlag(args, 'url') ?? settings?.url ?? `http://127.0.0.1:${config.port}`;
  const kit = playerKit(stringFlag(args, 'provider'));
  if (!kit.configured(config)) {
    throw usageError(
      kit.name === 'twilio'
        ? `simulate-call: no development service has published its settings in ${simulatorSettingsPath(config.dataDir)}; start one with toneguard serve (development profile, same data directory), or set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_API_BASE_URL to the service's values`
        : `simulate-call: the ${kit.name} credentials are not set; set them (and ${kit.apiBaseVariable}) to the service's values`,
    );
  }
  const accountRef = stringFlag(args, 'verify');
  const crmPort = accountRef ? standInPort(config.verification.lookupUrl, 'TONEGUARD_VERIFICATION_LOOKUP_URL', 'CRM stand-in') : undefined;
  const published = kit.name === 'twilio' ? settings?.standInPort : undefined;
  const standIn = await kit.startStandIn(published ?? standInPort(kit.apiBaseUrl(config), kit.apiBaseVariable, `${kit.name} stand-in`));
  const jwksUrl = `${baseUrl.replace(/\/$/, '')}/.well-known/jwks.json`;
  const crm = accountRef ? await startCrmStandIn({ [accountRef]: [SIMULATED_CALLER] }, () => jwksUrl, crmPort) : undefined;
  try {
    return await runSimulation({ config, baseUrl, kit, standIn, ...(accountRef ? { verify: { accountRef } } : {}) });
  } finally {
    await standIn.close();
    await crm?.close();
  }
}
