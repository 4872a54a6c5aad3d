import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deepMerge } from '../../src/config/index.js';
import { VonageSimulatedCall } from '../../src/simulator/vonage/call.js';
import { startVonageRestStandIn, type VonageRestStandIn } from '../../src/simulator/vonage/rest-stand-in.js';
import { VonageSigner } from '../../src/simulator/vonage/signer.js';
import type { VonageTarget } from '../../src/simulator/vonage/webhooks.js';
import type { ProviderPlayer } from '../../src/simulator/player.js';
import { startTestServer, type TestServer } from './server.js';

export const VONAGE_AGENT = 'app:agent';

export interface VonageTestBed {
  server: TestServer;
  standIn: VonageRestStandIn;
  signer: VonageSigner;
  target: VonageTarget;
  player: ProviderPlayer;
  dial(): Promise<VonageSimulatedCall>;
  close(): Promise<void>;
}

/** The real service with Vonage enabled: its Voice API client on a stand-in that checks the application JWT. */
export async function startVonageTestBed(overrides: Record<string, unknown> = {}): Promise<VonageTestBed> {
  const signer = new VonageSigner();
  const standIn = await startVonageRestStandIn(signer.applicationId, signer.publicKey);
  const privateKeyFile = join(mkdtempSync(join(tmpdir(), 'toneguard-vonage-key-')), 'private.key');
  writeFileSync(privateKeyFile, signer.privateKeyPem, { mode: 0o600 });
  const server = await startTestServer(
    deepMerge(
      { vonage: { applicationId: signer.applicationId, privateKeyFile, signatureSecret: signer.signatureSecret, apiKey: signer.apiKey, apiBaseUrl: standIn.url, agentTarget: VONAGE_AGENT, callerId: '447700900009' } },
      overrides,
    ),
  );
  const target: VonageTarget = { baseUrl: server.url, signer };
  const dial = () => VonageSimulatedCall.dial({ target, standIn });
  return {
    server,
    standIn,
    signer,
    target,
    player: { name: 'vonage', dial: (request = {}) => VonageSimulatedCall.dial({ ...request, target, standIn }) },
    dial,
    close: async () => {
      await server.close();
      await standIn.close();
    },
  };
}
