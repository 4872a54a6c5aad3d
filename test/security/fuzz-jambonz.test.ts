/**
 * jambonz fuzz (issue 13 item 5): one running service with jambonz configured, a healthy jambonz
 * call streaming both legs throughout, and with fast-check: every jambonz webhook with random
 * JSON bodies, signed, unsigned and wrongly signed (no 5xx; a bad signature is 403; answers are
 * verb arrays or the JSON error shape; no body echoes a PAN), and random frames on authorised
 * `listen` sockets (random text, JSON, binary L16 of any length, jambonz-shaped messages, metadata
 * that tries to take over the healthy call with forged credentials): sockets close only with
 * 1000/1008/1009 and the healthy call's agent keeps hearing the caller.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseListen, postJambonzWebhook, type JambonzTarget } from '../../src/simulator/jambonz/webhooks.js';
import { JAMBONZ_PATHS } from '../../src/telephony/jambonz/index.js';
import { JAMBONZ_SUBPROTOCOL } from '../../src/telephony/jambonz/ws-auth.js';
import { startJambonzTestBed, type ProviderTestBed } from '../helpers/providers.js';
import { waitFor } from '../helpers/twilio.js';
import { fuzzSocket, keepStreaming, providerFrame, runs, serviceUnharmed, stillFlows, webhookBody, type DrivenCall } from './fuzz/provider-fuzz.js';
import { FUZZ_PANS, hostileText } from './fuzz/values.js';

const PATHS = [JAMBONZ_PATHS.inbound, `${JAMBONZ_PATHS.agent}?call=${randomUUID()}`, JAMBONZ_PATHS.listenEnded, JAMBONZ_PATHS.callStatus];
const KEYS = ['call_sid', 'from', 'to', 'direction', 'call_status', 'account_sid'];

describe('jambonz fuzz (webhooks and listen sockets, with a healthy call alongside)', () => {
  let bed: ProviderTestBed<JambonzTarget>;
  let healthy: DrivenCall;
  let stop: () => void;
  let authorization: string;

  beforeAll(async () => {
    bed = await startJambonzTestBed();
    healthy = (await bed.player.dial()) as DrivenCall;
    await waitFor(() => bed.server.context.calls.get(healthy.callId)?.state === 'bridged');
    stop = keepStreaming(healthy);
    const listen = parseListen((await postJambonzWebhook(bed.target, JAMBONZ_PATHS.inbound, { call_sid: randomUUID() })).body)!;
    authorization = `Basic ${Buffer.from(`${listen.wsAuth!.username}:${listen.wsAuth!.password}`).toString('base64')}`;
  }, 60_000);

  afterAll(async () => {
    stop?.();
    await bed?.close();
  });

  it('answers every webhook without a 5xx; unsigned or wrongly signed ones get 403', async () => {
    await stillFlows(healthy, () =>
      fc.assert(
        fc.asyncProperty(fc.constantFrom(...PATHS), fc.oneof(webhookBody(KEYS), fc.jsonValue()), fc.constantFrom('signed', 'unsigned', 'forged'), async (path, body, signing) => {
          const answer = await postJambonzWebhook(bed.target, path, body, signing === 'signed' ? undefined : signing === 'unsigned' ? null : `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}`);
          expect(answer.status).toBeLessThan(500);
          // Over the body limit is 413 before any signature is read; otherwise a bad signature is 403.
          if (signing !== 'signed') expect([403, 413]).toContain(answer.status);
          if (answer.status >= 400) expect(JSON.parse(answer.body)).toMatchObject({ error: { code: expect.any(String) } });
          else if (answer.status === 200) expect(Array.isArray(JSON.parse(answer.body))).toBe(true);
          for (const pan of FUZZ_PANS) expect(answer.body).not.toContain(pan);
        }),
        runs(60),
      ),
    );
  }, 120_000);

  it('survives random and jambonz-shaped frames on its listen socket, and never lets one take over the healthy call', async () => {
    const shaped = fc.oneof(
      fc.record({ event: fc.constant('dtmf'), dtmf: fc.oneof(fc.constantFrom('1', '#'), hostileText), duration: fc.integer() }),
      fc.record({ type: fc.constantFrom('mark', 'playDone', 'killAudio', 'disconnect'), data: fc.record({ name: hostileText, event: fc.constantFrom('playout', 'cleared') }) }),
      fc.record({
        sampleRate: fc.constantFrom(8000, 16000, '8000', 44100, -1),
        mixType: fc.constantFrom('mono', 'stereo', 'mixed'),
        callSid: fc.constantFrom(healthy.callId, healthy.agentCallId, randomUUID(), 'bad sid'),
        leg: fc.constantFrom('caller', 'agent', 'x'),
        credential: fc.oneof(hostileText, fc.constant(`${Date.now().toString(36)}.${'A'.repeat(22)}.${'B'.repeat(43)}`)),
      }),
    );
    await stillFlows(healthy, () =>
      fc.assert(
        fc.asyncProperty(fc.array(providerFrame(shaped), { minLength: 1, maxLength: 12 }), async (frames) => {
          await fuzzSocket(`${bed.server.url.replace(/^http/, 'ws')}/media/jambonz`, [JAMBONZ_SUBPROTOCOL], { authorization }, frames);
          expect(bed.server.context.calls.get(healthy.callId)?.state).toBe('bridged');
        }),
        runs(40),
      ),
    );
    await serviceUnharmed(bed.server);
  }, 120_000);
});
