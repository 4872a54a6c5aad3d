import type { Actor } from '../../src/audit/types.js';
import { deepMerge } from '../../src/config/index.js';
import type { CaptureView } from '../../src/capture/types.js';
import {
  SimulatedCall,
  startTwilioRestStandIn,
  TWILIO_CALL_DIALECT,
  twilioFormatPlayer,
  type CallDialect,
  type ProviderPlayer,
  type TwilioRestStandIn,
  type TwilioTarget,
} from '../../src/simulator/index.js';
import { startTestServer, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, type TestServer } from './server.js';

export * from '../../src/simulator/index.js';

export const TEST_AGENT: Actor = { type: 'agent', id: 'agent', roles: ['agent'] };

export interface TwilioTestBed {
  server: TestServer;
  standIn: TwilioRestStandIn;
  target: TwilioTarget;
  /** How this bed's platform names its webhooks, streams and signatures (Twilio, or a Twilio-compatible platform). */
  dialect: CallDialect;
  /** The simulator's Twilio player for this service (what `simulate-call` plays with). */
  player: ProviderPlayer;
  dial(): Promise<SimulatedCall>;
  close(): Promise<void>;
}

/** The real service with its Twilio REST client pointed at a recording stand-in. */
export async function startTwilioTestBed(overrides: Record<string, unknown> = {}): Promise<TwilioTestBed> {
  const standIn = await startTwilioRestStandIn();
  const server = await startTestServer(deepMerge({ twilio: { apiBaseUrl: standIn.url } }, overrides));
  return twilioFormatBed(server, standIn, { accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN, dialect: TWILIO_CALL_DIALECT, name: 'twilio' });
}

/** A bed on a running service for a Twilio-format platform: its account, the key it signs with, its dialect. */
export function twilioFormatBed(server: TestServer, standIn: TwilioRestStandIn, platform: { accountSid: string; authToken: string; dialect: CallDialect; name: string }): TwilioTestBed {
  const { accountSid, dialect } = platform;
  const target: TwilioTarget = { baseUrl: server.url, publicUrl: server.context.config.publicUrl, authToken: platform.authToken };
  return {
    server,
    standIn,
    target,
    dialect,
    player: twilioFormatPlayer(platform.name, target, accountSid, standIn, dialect),
    dial: () => SimulatedCall.dial({ target, accountSid, standIn, dialect }),
    close: async () => {
      await server.close();
      await standIn.close();
    },
  };
}

/** Resolves once `predicate` holds, polling every 20 ms (rejects after `timeoutMs`). */
export async function waitFor<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('waitFor: condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Silence frames for a leg that only listens. */
export function silence(ms: number): Int16Array {
  return new Int16Array(ms * 8);
}

export function finalView(server: TestServer, captureId: string): CaptureView | undefined {
  const view = server.context.captures.get(captureId)?.view();
  return view && view.state !== 'active' && view.state !== 'tokenizing' ? view : undefined;
}
