import { deepMerge } from '../../src/config/index.js';
import type { JsonRestStandIn } from '../../src/simulator/json-rest-stand-in.js';
import { jambonzPlayer, startJambonzRestStandIn } from '../../src/simulator/jambonz/player.js';
import type { JambonzTarget } from '../../src/simulator/jambonz/webhooks.js';
import type { ProviderPlayer } from '../../src/simulator/player.js';
import { plivoPlayer, startPlivoRestStandIn } from '../../src/simulator/plivo/player.js';
import type { PlivoTarget } from '../../src/simulator/plivo/webhooks.js';
import { startTestServer, type TestServer } from './server.js';

export const TEST_PLIVO_AUTH_ID = 'MAZDQ1ZTU5ZJGWNJC3NZ';
export const TEST_PLIVO_AUTH_TOKEN = 'plivo-test-auth-token-0123456789abcdef';
export const TEST_JAMBONZ_ACCOUNT = 'fef61e75-1c1e-4a4e-9a0b-0123456789ab';
export const TEST_JAMBONZ_API_KEY = 'jambonz-test-api-key-0123456789';
export const TEST_JAMBONZ_SECRET = 'wh_secret_test_0123456789abcdef';

export interface ProviderTestBed<Target> {
  server: TestServer;
  standIn: JsonRestStandIn;
  target: Target;
  player: ProviderPlayer;
  close(): Promise<void>;
}

async function bed<Target>(standIn: JsonRestStandIn, settings: Record<string, unknown>, overrides: Record<string, unknown>, make: (server: TestServer) => { target: Target; player: ProviderPlayer }): Promise<ProviderTestBed<Target>> {
  const server = await startTestServer(deepMerge(settings, overrides));
  return {
    server,
    standIn,
    ...make(server),
    close: async () => {
      await server.close();
      await standIn.close();
    },
  };
}

/** The real service with Plivo configured and its Voice API pointed at a recording stand-in. */
export async function startPlivoTestBed(overrides: Record<string, unknown> = {}): Promise<ProviderTestBed<PlivoTarget>> {
  const standIn = await startPlivoRestStandIn();
  const settings = { plivo: { authId: TEST_PLIVO_AUTH_ID, authToken: TEST_PLIVO_AUTH_TOKEN, apiBaseUrl: standIn.url, agentTarget: 'sip:pv-agent@phone.plivo.com', agentId: 'pv-agent' } };
  return bed(standIn, settings, overrides, (server) => {
    const target = { baseUrl: server.url, publicUrl: server.context.config.publicUrl, authToken: TEST_PLIVO_AUTH_TOKEN };
    return { target, player: plivoPlayer(target, TEST_PLIVO_AUTH_ID, standIn) };
  });
}

/** The real service with jambonz configured and its REST API pointed at a recording stand-in. */
export async function startJambonzTestBed(overrides: Record<string, unknown> = {}): Promise<ProviderTestBed<JambonzTarget>> {
  const standIn = await startJambonzRestStandIn();
  const settings = { jambonz: { accountSid: TEST_JAMBONZ_ACCOUNT, apiKey: TEST_JAMBONZ_API_KEY, webhookSecret: TEST_JAMBONZ_SECRET, apiBaseUrl: standIn.url, agentTarget: 'user:jz-agent', agentId: 'jz-agent' } };
  return bed(standIn, settings, overrides, (server) => {
    const target = { baseUrl: server.url, publicUrl: server.context.config.publicUrl, webhookSecret: TEST_JAMBONZ_SECRET };
    return { target, player: jambonzPlayer(target, TEST_JAMBONZ_ACCOUNT, standIn) };
  });
}
