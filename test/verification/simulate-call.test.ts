import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '../../src/agent/dev-issuer.js';
import { startCrmStandIn, type CrmStandIn } from '../../src/verification/crm-stand-in.js';
import { restAgentControl, runCardCaptureScenario, SIMULATED_CALLER, startTwilioTestBed, type ScenarioResult, type TwilioTestBed } from '../helpers/twilio.js';

describe('the simulate-call scenario with --verify: a masked one-time code before the card (slow, real service)', () => {
  let crm: CrmStandIn;
  let bed: TwilioTestBed;
  let printed = '';
  let result: ScenarioResult;

  beforeAll(async () => {
    let jwksUrl = '';
    crm = await startCrmStandIn({ 'DEMO-1': [SIMULATED_CALLER] }, () => jwksUrl);
    bed = await startTwilioTestBed({
      twilio: { agentTarget: 'client:demo-agent' },
      verification: { lookupUrl: crm.url, smsFrom: '+15005550001' },
      capture: { requireVerification: 'otp_verified' },
    });
    jwksUrl = `${bed.server.url}/.well-known/jwks.json`;
    const token = await mintDevToken(bed.server.context.config, { sub: 'demo-agent', role: 'agent' });
    result = await runCardCaptureScenario({
      player: bed.player,
      agent: async () => restAgentControl(bed.server.url, token),
      say: (line) => void (printed += `${line}\n`),
      // Half the demo's real time: fast, with room for the capture start to land before the first key under load.
      speed: 2,
      verify: { accountRef: 'DEMO-1', messages: bed.standIn },
    });
  }, 30_000);

  afterAll(async () => {
    await bed?.close();
    await crm?.close();
  });

  it('reaches otp_verified, then captures the card with no digit audible to the agent', () => {
    expect(result).toMatchObject({ success: true, verification: 'otp_verified', agentHeard: { digits: '' }, capture: { state: 'complete' } });
    expect(printed).toContain('caller verification: otp_verified');
  });

  it('prints neither the code nor the number on file', () => {
    const message = bed.standIn.requests.find((r) => r.path.endsWith('/Messages.json'));
    const code = /(\d{6})/.exec(message?.params.Body ?? '')?.[1];
    expect(code).toBeDefined();
    expect(printed).not.toMatch(new RegExp(`(?<!\\d)${code}(?!\\d)`));
    expect(printed).not.toContain(SIMULATED_CALLER.slice(1));
  });
});
