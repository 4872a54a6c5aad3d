/**
 * Plivo fuzz (issue 13 item 5): one running service with Plivo configured, a healthy Plivo call
 * streaming both legs throughout, and with fast-check: every Plivo webhook with random bodies,
 * signed and unsigned (no 5xx; unsigned or wrongly signed is 403; answers are XML or the JSON
 * error shape; no body echoes a PAN), and random frames on authorised media sockets (random text,
 * JSON, binary, Plivo-shaped messages with bad payloads, starts that try to take over the healthy
 * call with forged credentials): sockets close only with 1000/1008/1009 and the healthy call's
 * agent keeps hearing the caller.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseStreamXml, postPlivoWebhook, type PlivoTarget } from '../../src/simulator/plivo/webhooks.js';
import { PLIVO_PATHS } from '../../src/telephony/plivo/index.js';
import { encodeExtraHeaders } from '../../src/telephony/plivo/xml.js';
import { startPlivoTestBed, type ProviderTestBed } from '../helpers/providers.js';
import { waitFor } from '../helpers/twilio.js';
import { fuzzSocket, keepStreaming, providerFrame, runs, serviceUnharmed, stillFlows, webhookBody, type DrivenCall } from './fuzz/provider-fuzz.js';
import { FUZZ_PANS, hostileText } from './fuzz/values.js';

const PATHS = [PLIVO_PATHS.inbound, `${PLIVO_PATHS.agent}?call=${randomUUID()}`, PLIVO_PATHS.hangup, PLIVO_PATHS.streamStatus];
const KEYS = ['CallUUID', 'RequestUUID', 'ALegRequestUUID', 'From', 'To', 'Event', 'CallStatus'];

describe('Plivo fuzz (webhooks and media sockets, with a healthy call alongside)', () => {
  let bed: ProviderTestBed<PlivoTarget>;
  let healthy: DrivenCall;
  let stop: () => void;
  let socketPath: string;

  beforeAll(async () => {
    bed = await startPlivoTestBed();
    healthy = (await bed.player.dial()) as DrivenCall;
    await waitFor(() => bed.server.context.calls.get(healthy.callId)?.state === 'bridged');
    stop = keepStreaming(healthy);
    const stream = parseStreamXml((await postPlivoWebhook(bed.target, PLIVO_PATHS.inbound, { CallUUID: randomUUID() })).body)!;
    socketPath = `${new URL(stream.url).pathname}${new URL(stream.url).search}`;
  }, 60_000);

  afterAll(async () => {
    stop?.();
    await bed?.close();
  });

  it('answers every webhook without a 5xx; unsigned or wrongly signed ones get 403', async () => {
    await stillFlows(healthy, () =>
      fc.assert(
        fc.asyncProperty(fc.constantFrom(...PATHS), webhookBody(KEYS), fc.constantFrom('signed', 'unsigned', 'forged'), async (path, body, signing) => {
          const answer = await postPlivoWebhook(bed.target, path, body, signing === 'signed' ? undefined : signing === 'unsigned' ? null : 'Zm9yZ2Vk');
          expect(answer.status).toBeLessThan(500);
          // Over the body limit is 413 before any signature is read; otherwise a bad signature is 403.
          if (signing !== 'signed') expect([403, 413]).toContain(answer.status);
          if (answer.status >= 400) expect(JSON.parse(answer.body)).toMatchObject({ error: { code: expect.any(String) } });
          else if (answer.status === 200) expect(answer.body).toMatch(/^<\?xml/);
          for (const pan of FUZZ_PANS) expect(answer.body).not.toContain(pan);
        }),
        runs(60),
      ),
    );
  }, 120_000);

  it('survives random and Plivo-shaped frames on its media socket, and never lets one take over the healthy call', async () => {
    const shaped = fc.oneof(
      fc.record({ event: fc.constant('media'), media: fc.record({ payload: fc.oneof(hostileText, fc.base64String({ maxLength: 4000 })) }) }),
      fc.record({ event: fc.constant('dtmf'), dtmf: fc.record({ digit: fc.oneof(fc.constantFrom('1', '#'), hostileText) }) }),
      fc.record({ event: fc.constantFrom('playedStream', 'clearedAudio', 'stop', 'played'), name: hostileText }),
      fc.record({
        event: fc.constant('start'),
        start: fc.record({ callId: fc.constantFrom(healthy.callId, healthy.agentCallId, randomUUID()), streamId: fc.uuid(), mediaFormat: fc.record({ encoding: fc.constantFrom('audio/x-mulaw', 'audio/x-l16', 'x'), sampleRate: fc.constantFrom(8000, 16000, '8000', 1) }) }),
        extra_headers: fc.oneof(hostileText, fc.constantFrom('caller', 'agent').map((leg) => encodeExtraHeaders({ leg, credential: `${Date.now().toString(36)}.${'A'.repeat(22)}.${'B'.repeat(43)}` }))),
      }),
    );
    await stillFlows(healthy, () =>
      fc.assert(
        fc.asyncProperty(fc.array(providerFrame(shaped), { minLength: 1, maxLength: 12 }), async (frames) => {
          await fuzzSocket(`${bed.server.url.replace(/^http/, 'ws')}${socketPath}`, [], {}, frames);
          expect(bed.server.context.calls.get(healthy.callId)?.state).toBe('bridged');
        }),
        runs(40),
      ),
    );
    await serviceUnharmed(bed.server);
  }, 120_000);
});
