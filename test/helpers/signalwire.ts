import { randomUUID } from 'node:crypto';
import { deepMerge } from '../../src/config/index.js';
import { SIGNALWIRE_CALL_DIALECT, startTwilioRestStandIn } from '../../src/simulator/index.js';
import { startTestServer } from './server.js';
import { twilioFormatBed, type TwilioTestBed } from './twilio.js';

export { SIGNALWIRE_CALL_DIALECT };

export const TEST_SIGNALWIRE_PROJECT = '5b1f0d3e-7c2a-4b8e-9f61-0a1b2c3d4e5f';
export const TEST_SIGNALWIRE_TOKEN = 'PTtest0123456789abcdef0123456789abcdef';
export const TEST_SIGNING_KEY = 'PSK_test0123456789abcdef0123456789ab';

/**
 * The real service with SignalWire configured and its Compatibility REST API pointed at a
 * recording stand-in (UUID call ids). The same shape as the Twilio bed, so the shared helpers
 * (healthy call, leak scan) run on either; its calls are played in SignalWire's dialect.
 */
export async function startSignalWireTestBed(overrides: Record<string, unknown> = {}): Promise<TwilioTestBed> {
  const standIn = await startTwilioRestStandIn(0, randomUUID);
  const server = await startTestServer(
    deepMerge(
      { signalwire: { projectId: TEST_SIGNALWIRE_PROJECT, apiToken: TEST_SIGNALWIRE_TOKEN, signingKey: TEST_SIGNING_KEY, spaceUrl: standIn.url } },
      overrides,
    ),
  );
  return twilioFormatBed(server, standIn, { accountSid: TEST_SIGNALWIRE_PROJECT, authToken: TEST_SIGNING_KEY, dialect: SIGNALWIRE_CALL_DIALECT, name: 'signalwire' });
}
