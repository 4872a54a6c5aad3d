import { deepMerge } from '../../src/config/index.js';
import { TelnyxSimulatedCall, type TelnyxDialOptions } from '../../src/simulator/telnyx/call.js';
import { startTelnyxRestStandIn, type TelnyxRestStandIn } from '../../src/simulator/telnyx/rest-stand-in.js';
import { TelnyxSigner } from '../../src/simulator/telnyx/signer.js';
import type { TelnyxTarget } from '../../src/simulator/telnyx/webhooks.js';
import type { ProviderPlayer } from '../../src/simulator/player.js';
import { startTestServer, type TestServer } from './server.js';

export const TELNYX_AGENT = 'sip:agent@pbx.example.com';

export interface TelnyxTestBed {
  server: TestServer;
  standIn: TelnyxRestStandIn;
  signer: TelnyxSigner;
  target: TelnyxTarget;
  player: ProviderPlayer;
  dial(options?: Partial<TelnyxDialOptions>): Promise<TelnyxSimulatedCall>;
  close(): Promise<void>;
}

/** The real service with Telnyx enabled: its Call Control client on a recording stand-in, webhooks checked against a fresh key pair. */
export async function startTelnyxTestBed(overrides: Record<string, unknown> = {}): Promise<TelnyxTestBed> {
  const standIn = await startTelnyxRestStandIn();
  const signer = new TelnyxSigner();
  const server = await startTestServer(
    deepMerge({ telnyx: { apiKey: 'KEY0123456789ABCDEF_test', publicKey: signer.publicKey, connectionId: '1684641123236054244', apiBaseUrl: standIn.url, agentTarget: TELNYX_AGENT, callerId: '+15005550009' } }, overrides),
  );
  const target: TelnyxTarget = { baseUrl: server.url, signer };
  const dial = (options: Partial<TelnyxDialOptions> = {}) => TelnyxSimulatedCall.dial({ target, standIn, ...options });
  return {
    server,
    standIn,
    signer,
    target,
    player: { name: 'telnyx', dial: (request = {}) => dial(request) },
    dial,
    close: async () => {
      await server.close();
      await standIn.close();
    },
  };
}
