import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VonageSigner } from '../../src/simulator/vonage/signer.js';
import { lastJsonLine, runCliAsync } from '../helpers/cli.js';
import { startTestServer } from '../helpers/server.js';
import { freePort } from '../../src/simulator/free-port.js';

interface Summary {
  success: boolean;
  provider: string;
  agentHeard: { digits: string; decoder: string };
  capture: { state: string; result: { token: string } };
}

const home = mkdtempSync(join(tmpdir(), 'toneguard-demo-providers-'));
/** The environment without Toneguard's and the providers' variables. */
const bareEnv = () => Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(TONEGUARD_|TWILIO_|TELNYX_|VONAGE_)/.test(name)));

describe('demo and simulate-call in the Telnyx and Vonage wire formats (slow, CLI from source)', () => {
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it.each(['telnyx', 'vonage'])('toneguard demo --provider %s: the agent hears no digit and gets a token', async (provider) => {
    const result = await runCliAsync(['demo', '--provider', provider], { env: { ...bareEnv(), TONEGUARD_DATA_DIR: join(home, provider) } });
    expect(result.stderr).not.toContain('demo:');
    expect(result.status).toBe(0);
    const summary = lastJsonLine<Summary>(result.stdout);
    expect(summary).toMatchObject({ success: true, provider, agentHeard: { digits: '' }, capture: { state: 'complete' } });
    expect(summary.capture.result.token).toMatch(/^tok_/);
    expect(result.stdout + result.stderr).not.toContain('4111111111111111');
  }, 180_000);

  it('toneguard simulate-call --provider vonage plays against a running service with its own Vonage account', async () => {
    const account = new VonageSigner();
    const privateKeyFile = join(home, 'vonage.key');
    writeFileSync(privateKeyFile, account.privateKeyPem, { mode: 0o600 });
    const apiBaseUrl = `http://127.0.0.1:${await freePort()}`;
    const vonage = { applicationId: account.applicationId, privateKeyFile, signatureSecret: account.signatureSecret, apiKey: account.apiKey, apiBaseUrl, agentTarget: 'app:agent' };
    const server = await startTestServer({ vonage });
    try {
      const env = {
        ...bareEnv(),
        TONEGUARD_DATA_DIR: server.dataDir,
        TONEGUARD_PUBLIC_URL: server.context.config.publicUrl,
        VONAGE_APPLICATION_ID: vonage.applicationId,
        VONAGE_PRIVATE_KEY_FILE: privateKeyFile,
        VONAGE_SIGNATURE_SECRET: vonage.signatureSecret,
        VONAGE_API_KEY: vonage.apiKey,
        VONAGE_API_BASE_URL: apiBaseUrl,
        VONAGE_AGENT_TARGET: vonage.agentTarget,
      };
      const result = await runCliAsync(['simulate-call', '--provider', 'vonage', '--url', server.url], { env });
      expect(result.stderr).not.toContain('simulate-call:');
      expect(result.status).toBe(0);
      expect(lastJsonLine<Summary>(result.stdout)).toMatchObject({ success: true, provider: 'vonage', agentHeard: { digits: '' } });
    } finally {
      await server.close();
    }
  }, 180_000);
});
