import type { VerificationLevel } from '../verification/levels.js';
import type { AgentControl } from './agent-control.js';
import { concatSamples, keypadTones } from './audio.js';
import type { PlayedCall } from './player.js';
import type { RecordedTwilioRequest, TwilioRestStandIn } from './twilio/rest-stand-in.js';

const RATE = 8000;
const pause = (ms: number) => new Int16Array(Math.round((ms * RATE) / 1000));

export interface VerificationStepOptions {
  accountRef: string;
  /** Where the service's text messages land (the one-time codes go out through Twilio's Messages API, whichever platform carries the call). */
  standIn: TwilioRestStandIn;
  speed: number;
  say: (line: string) => void;
  timeoutMs?: number;
}

async function poll<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`simulated call: ${what} did not happen in time`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Caller verification as the demo plays it: the agent looks the account up and has a code texted
 * to the first number on file; the Twilio stand-in plays the customer's phone (the code is read
 * from its recorded `Messages.json` create), and the caller keys the code as DTMF tones.
 */
export async function verifyCaller(call: PlayedCall, agent: AgentControl, options: VerificationStepOptions): Promise<VerificationLevel> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const looked = await agent.lookUpAccount(call.callId, options.accountRef);
  options.say(`the agent looks account up: level ${looked.level}, ${looked.numbersOnFile.length} number(s) on file`);
  const before = options.standIn.requests.length;
  const captureId = await agent.sendCode(call.callId, 0);
  const isMessage = (r: RecordedTwilioRequest) => r.method === 'POST' && r.path.endsWith('/Messages.json');
  const message = await poll(async () => options.standIn.requests.slice(before).find(isMessage), timeoutMs, 'the text message');
  const code = /(?<!\d)(\d{6,8})(?!\d)/.exec(message.params.Body ?? '')?.[1];
  if (!code) throw new Error('simulated call: the text message carried no code');
  options.say(`a code went to the number on file ending ${looked.numbersOnFile[0] ?? '??'}; the caller keys it as tones`);
  const keys = keypadTones(code);
  const lead = pause(300);
  const audio = concatSamples([lead, keys.audio, pause(300)]);
  const keyed = { audio, keyEnds: keys.keyEnds.map((k) => ({ ...k, endSample: k.endSample + lead.length })) };
  await Promise.all([call.callerPlays(keyed, options.speed), call.agentPlays(pause((audio.length * 1000) / RATE), options.speed)]);
  await poll(async () => {
    const view = await agent.view(captureId);
    return view.state === 'active' ? undefined : view;
  }, timeoutMs, 'the one-time code check');
  const level = (await agent.verification(call.callId))?.level ?? 'none';
  options.say(`caller verification: ${level}`);
  return level;
}
