import type { CaptureView } from '../capture/types.js';
import type { AgentControl } from './agent-control.js';
import { concatSamples, decodeDigits, keypadTones, speech } from './audio.js';
import type { PlayedCall, ProviderPlayer } from './player.js';
import type { TwilioRestStandIn } from './twilio/rest-stand-in.js';
import type { VerificationLevel } from '../verification/levels.js';
import { verifyCaller } from './verification-step.js';

const RATE = 8000;
/** Test card 4111 1111 1111 1111 (a Visa may be 16 or 19 digits, so the caller ends it with #), Dec 2030, CVV. */
export const DEMO_KEYS = { card: '4111111111111111#', expiry: '1230', cvv: '737' };

export interface ScenarioOptions {
  /** Plays the call as one platform. */
  player: ProviderPlayer;
  agent: (call: PlayedCall) => Promise<AgentControl>;
  /** Progress lines for a human (never a captured digit). */
  say?: (line: string) => void;
  /** 1 = real time. */
  speed?: number;
  /** Verify the caller with a one-time code (to a number on file for this account) before the card; the code is read off the Twilio Messages stand-in. */
  verify?: { accountRef: string; messages: TwilioRestStandIn };
}

export interface ScenarioResult {
  /** The neutral call id (`simulate-call` prints it as `callSid`, as before). */
  callId: string;
  /** Digits an independent decoder finds in the audio the agent received: expected none. */
  agentHeard: { digits: string; decoder: string; seconds: number };
  speechSource: string;
  capture: CaptureView;
  /** The caller verification level reached, when the scenario verified the caller. */
  verification?: VerificationLevel;
  success: boolean;
}

const pause = (ms: number) => new Int16Array(Math.round((ms * RATE) / 1000));

/**
 * The demo call: caller and agent talk, the agent starts a card capture, the caller keys the
 * card number, expiry and CVV as real DTMF tones (with the platform's DTMF events), the call ends.
 */
export async function runCardCaptureScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const say = options.say ?? (() => undefined);
  const speed = options.speed ?? 1;
  const callerTalk = speech('Hello, I would like to pay my bill please.', 2000, 7);
  const agentTalk = speech('Of course. Please type your card number, then the hash key, then the expiry date and the security code.', 3000, 11);

  // A verified demo call comes in fully attested (STIR/SHAKEN "A"), as a real customer's would.
  const attested = options.verify ? { stirVerstat: 'TN-Validation-Passed-A' } : {};
  const call = await options.player.dial(attested);
  say(`call ${call.callId} answered; agent leg ${call.agentCallId} placed through the ${options.player.name} REST stand-in and bridged`);
  const agent = await options.agent(call);
  const verify = options.verify;
  const verification = verify ? await verifyCaller(call, agent, { accountRef: verify.accountRef, standIn: verify.messages, speed, say }) : undefined;

  const keys = keypadTones(DEMO_KEYS.card + DEMO_KEYS.expiry + DEMO_KEYS.cvv);
  // The caller speaks, the agent answers, the agent starts the capture, then the caller keys.
  const talkSamples = callerTalk.audio.length + agentTalk.audio.length + pause(300).length;
  const keysStart = talkSamples + pause(700).length;
  const callerTimeline = concatSamples([callerTalk.audio, pause(((keysStart - callerTalk.audio.length) * 1000) / RATE), keys.audio, pause(600)]);
  const shiftedKeys = { audio: callerTimeline, keyEnds: keys.keyEnds.map((k) => ({ ...k, endSample: k.endSample + keysStart })) };
  const agentTimeline = concatSamples([pause((callerTalk.audio.length * 1000) / RATE), agentTalk.audio, pause(((callerTimeline.length - talkSamples) * 1000) / RATE + 300)]);

  say(`caller and agent talk (${callerTalk.source} speech); the agent starts a capture of card_number, expiry, cvv`);
  const captureStarts = new Promise<string>((resolve, reject) => {
    setTimeout(() => agent.startCapture(call.callId, ['card_number', 'expiry', 'cvv']).then(resolve, reject), (1000 * talkSamples) / RATE / speed);
  });
  captureStarts.catch(() => undefined);
  await Promise.all([call.callerPlays(shiftedKeys, speed), call.agentPlays(agentTimeline, speed)]);
  const captureId = await captureStarts;

  let capture = await agent.view(captureId);
  const deadline = Date.now() + 5000;
  while ((capture.state === 'active' || capture.state === 'tokenizing') && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    capture = await agent.view(captureId);
  }
  await call.hangUp();

  const heardAudio = call.agentHeard();
  const heard = decodeDigits(heardAudio);
  return {
    callId: call.callId,
    agentHeard: { digits: heard.digits, decoder: heard.decoder, seconds: Math.round(heardAudio.length / RATE) },
    speechSource: callerTalk.source,
    capture,
    ...(verification ? { verification } : {}),
    success: heard.digits === '' && capture.state === 'complete' && (!options.verify || verification === 'otp_verified'),
  };
}
