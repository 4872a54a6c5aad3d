import { loadConfig, type Config } from '../config/index.js';
import { mintDevToken } from '../agent/dev-issuer.js';
import { agentIdentity } from '../telephony/provider.js';
import {
  restAgentControl,
  runCardCaptureScenario,
  SIMULATED_CALLER,
  startTwilioRestStandIn,
  type AgentControl,
  type ScenarioResult,
  type TwilioRestStandIn,
} from '../telephony/twilio/simulator/index.js';
import { startCrmStandIn } from '../verification/crm-stand-in.js';
import { stringFlag, usageError, type ParsedArgs } from './args.js';
import { configWithSettings, readSimulatorSettings, simulatorSettingsPath } from './simulator-settings.js';

/** The simulated agent acts through the agent REST API, with a token from the development issuer. */
async function agentControl(config: Config, baseUrl: string): Promise<AgentControl> {
  const agentId = agentIdentity(config.twilio.agentTarget);
  return restAgentControl(baseUrl, await mintDevToken(config, { sub: agentId, role: 'agent' }));
}

export interface SimulationSetup {
  config: Config;
  baseUrl: string;
  standIn: TwilioRestStandIn;
  /** Verify the caller with a one-time code before the card (`--verify ACCOUNT_REF`). */
  verify?: { accountRef: string };
}

/** Plays the demo call and prints what happened; the last line is the JSON summary. Returns the exit code. */
export async function runSimulation(setup: SimulationSetup): Promise<number> {
  const { config, baseUrl, standIn, verify } = setup;
  const say = (line: string) => process.stdout.write(`• ${line}\n`);
  const result: ScenarioResult = await runCardCaptureScenario({
    target: { baseUrl, publicUrl: config.publicUrl, authToken: config.twilio.authToken },
    accountSid: config.twilio.accountSid,
    standIn,
    agent: async () => agentControl(config, baseUrl),
    say,
    ...(verify ? { verify } : {}),
  });
  const card = result.capture.fields.find((f) => f.kind === 'card_number');
  say(`the agent heard ${result.agentHeard.seconds} s of caller audio; ${result.agentHeard.decoder} decodes ${result.agentHeard.digits.length} DTMF digits in it`);
  say(`capture ${result.capture.state}: ${result.capture.fields.map((f) => `${f.name}=${f.state}`).join(', ')}${card?.brand ? `, ${card.brand} ending ${card.last4 ?? '?'}` : ''}`);
  say(`token: ${result.capture.result?.token ?? '(none)'}`);
  say(result.success ? 'OK: the agent heard no digits and received only a token' : 'FAILED: see the summary');
  process.stdout.write(
    `${JSON.stringify({ success: result.success, callSid: result.callSid, agentHeard: result.agentHeard, speech: result.speechSource, capture: result.capture, verification: result.verification })}\n`,
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
/**
 * `toneguard simulate-call [--url URL] [--data-dir DIR] [--verify ACCOUNT_REF]`: plays a whole call
 * against a running service, acting as Twilio; with `--verify`, also as the CRM, where the caller's
 * number is on file. A development service on this machine publishes its settings in its data
 * directory, so nothing needs setting up; otherwise the Twilio variables must match the service's.
 */
export async function simulateCallCommand(args: ParsedArgs): Promise<number> {
  const dataDir = stringFlag(args, 'data-dir');
  const local = loadConfig(dataDir ? { overrides: { dataDir } } : {});
  const settings = readSimulatorSettings(local.dataDir);
  const config = settings ? configWithSettings(local, settings) : local;
  const baseUrl = stringFlag(args, 'url') ?? settings?.url ?? `http://127.0.0.1:${config.port}`;
  if (!config.twilio.authToken || !config.twilio.accountSid) {
    throw usageError(
      `simulate-call: no development service has published its settings in ${simulatorSettingsPath(config.dataDir)}; start one with toneguard serve (development profile, same data directory), or set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_API_BASE_URL to the service's values`,
    );
  }
  const accountRef = stringFlag(args, 'verify');
  const crmPort = accountRef ? standInPort(config.verification.lookupUrl, 'TONEGUARD_VERIFICATION_LOOKUP_URL', 'CRM stand-in') : undefined;
  const standIn = await startTwilioRestStandIn(settings?.standInPort ?? standInPort(config.twilio.apiBaseUrl, 'TWILIO_API_BASE_URL', 'Twilio stand-in'));
  const jwksUrl = `${baseUrl.replace(/\/$/, '')}/.well-known/jwks.json`;
  const crm = accountRef ? await startCrmStandIn({ [accountRef]: [SIMULATED_CALLER] }, () => jwksUrl, crmPort) : undefined;
  try {
    return await runSimulation({ config, baseUrl, standIn, ...(accountRef ? { verify: { accountRef } } : {}) });
  } finally {
    await standIn.close();
    await crm?.close();
  }
}
