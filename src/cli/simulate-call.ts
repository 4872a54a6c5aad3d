import { loadConfig, type Config } from '../config/index.js';
import type { CaptureService } from '../capture/types.js';
import { agentIdentity } from '../telephony/twilio/twiml.js';
import {
  inProcessAgentControl,
  restAgentControl,
  runCardCaptureScenario,
  startTwilioRestStandIn,
  type AgentControl,
  type ScenarioResult,
  type TwilioRestStandIn,
} from '../telephony/twilio/simulator/index.js';
import { stringFlag, usageError, type ParsedArgs } from './args.js';

type MintDevToken = (config: Config, claims: { sub: string; role: string }) => Promise<string>;

/** The development issuer lives with the agent API; loaded lazily so the simulator works without it in-process. */
async function loadDevIssuer(): Promise<MintDevToken | undefined> {
  const specifier = '../agent/dev-issuer.js';
  try {
    const module = (await import(specifier)) as { mintDevToken?: MintDevToken };
    return module.mintDevToken;
  } catch {
    return undefined;
  }
}

/**
 * The simulated agent acts through the agent REST API with a development token. In-process
 * (the demo) it may drive the capture service directly when the agent API is not built in.
 */
async function agentControl(config: Config, baseUrl: string, captures?: CaptureService): Promise<AgentControl> {
  const agentId = agentIdentity(config.twilio.agentTarget);
  const mint = await loadDevIssuer();
  if (mint) return restAgentControl(baseUrl, await mint(config, { sub: agentId, role: 'agent' }));
  if (captures) return inProcessAgentControl(captures, agentId);
  throw usageError('simulate-call needs the agent API and its development token issuer (development profile)');
}

export interface SimulationSetup {
  config: Config;
  baseUrl: string;
  standIn: TwilioRestStandIn;
  captures?: CaptureService;
}

/** Plays the demo call and prints what happened; the last line is the JSON summary. Returns the exit code. */
export async function runSimulation(setup: SimulationSetup): Promise<number> {
  const { config, baseUrl, standIn } = setup;
  const say = (line: string) => process.stdout.write(`• ${line}\n`);
  const result: ScenarioResult = await runCardCaptureScenario({
    target: { baseUrl, publicUrl: config.publicUrl, authToken: config.twilio.authToken },
    accountSid: config.twilio.accountSid,
    standIn,
    agent: async () => agentControl(config, baseUrl, setup.captures),
    say,
  });
  const card = result.capture.fields.find((f) => f.kind === 'card_number');
  say(`the agent heard ${result.agentHeard.seconds} s of caller audio; ${result.agentHeard.decoder} decodes ${result.agentHeard.digits.length} DTMF digits in it`);
  say(`capture ${result.capture.state}: ${result.capture.fields.map((f) => `${f.name}=${f.state}`).join(', ')}${card?.brand ? `, ${card.brand} ending ${card.last4 ?? '?'}` : ''}`);
  say(`token: ${result.capture.result?.token ?? '(none)'}`);
  say(result.success ? 'OK: the agent heard no digits and received only a token' : 'FAILED: see the summary');
  process.stdout.write(
    `${JSON.stringify({ success: result.success, callSid: result.callSid, agentHeard: result.agentHeard, speech: result.speechSource, capture: result.capture })}\n`,
  );
  return result.success ? 0 : 1;
}

/** Where the service's Twilio REST client is pointed; the stand-in must listen there. */
function standInPort(config: Config): number {
  const url = new URL(config.twilio.apiBaseUrl);
  const local = url.protocol === 'http:' && (url.hostname === '127.0.0.1' || url.hostname === 'localhost');
  if (!local || !url.port) throw usageError('simulate-call: set TWILIO_API_BASE_URL to a local http://127.0.0.1:PORT (for the service and here); the Twilio stand-in listens there');
  return Number(url.port);
}

/** `toneguard simulate-call [--url URL]`: plays a whole call against a running service, acting as Twilio. */
export async function simulateCallCommand(args: ParsedArgs): Promise<number> {
  const config = loadConfig();
  const baseUrl = stringFlag(args, 'url') ?? `http://127.0.0.1:${config.port}`;
  if (!config.twilio.authToken || !config.twilio.accountSid) throw usageError('simulate-call: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN to the service\'s values');
  const standIn = await startTwilioRestStandIn(standInPort(config));
  try {
    return await runSimulation({ config, baseUrl, standIn });
  } finally {
    await standIn.close();
  }
}
