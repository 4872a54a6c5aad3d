import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { agentIdentity } from '../../telephony/provider.js';
import type { PlayerKit, PlayerStandIn } from '../player.js';
import { VonageSimulatedCall } from './call.js';
import { startVonageRestStandIn, type VonageRestStandIn } from './rest-stand-in.js';
import { VonageSigner } from './signer.js';

/** The stand-in, the application key pair and the signature secret the played webhooks are signed with. */
export function vonagePlayerStandIn(standIn: VonageRestStandIn, signer = new VonageSigner()): PlayerStandIn {
  return {
    url: standIn.url,
    demoSettings: () => {
      const dir = join(tmpdir(), `toneguard-vonage-${process.pid}`);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const privateKeyFile = join(dir, 'private.key');
      writeFileSync(privateKeyFile, signer.privateKeyPem, { mode: 0o600 });
      return { vonage: { applicationId: signer.applicationId, privateKeyFile, signatureSecret: signer.signatureSecret, apiKey: signer.apiKey, apiBaseUrl: standIn.url, agentTarget: 'app:demo-agent', callerId: '447700900009' } };
    },
    player: ({ baseUrl, config }) => {
      // Signs as the service's account does (its secret), and trusts its application key on the stand-in.
      const { signatureSecret, apiKey, applicationId, privateKeyFile } = config.vonage;
      const account = new VonageSigner({ signatureSecret, apiKey, applicationId, privateKeyPem: readFileSync(privateKeyFile, 'utf8') });
      standIn.trust(account.applicationId, account.publicKey);
      return { name: 'vonage', dial: (request = {}) => VonageSimulatedCall.dial({ ...request, target: { baseUrl, signer: account }, standIn }) };
    },
    close: () => standIn.close(),
  };
}

/** Vonage: JWT-signed webhooks, NCCO websockets with binary L16 over `ws`, the Voice API on a local stand-in. */
export const vonageKit: PlayerKit = {
  name: 'vonage',
  startStandIn: async (port) => {
    const signer = new VonageSigner();
    return vonagePlayerStandIn(await startVonageRestStandIn(signer.applicationId, signer.publicKey, port), signer);
  },
  apiBaseUrl: (config) => config.vonage.apiBaseUrl,
  apiBaseVariable: 'VONAGE_API_BASE_URL',
  configured: (config) => config.vonage.applicationId !== '' && config.vonage.privateKeyFile !== '' && config.vonage.signatureSecret !== '',
  agentId: (config) => agentIdentity(config.vonage.agentTarget),
};
