/**
 * Vonage fuzz: one running service with a healthy Vonage call streaming both legs. Fuzzed with
 * fast-check: answer, agent and event webhooks (random query fields and JSON bodies), unsigned,
 * signed with another secret and correctly signed; and media sockets upgraded with Vonage's JWT
 * that then send random text, random JSON, random binary frames, `websocket:connected` messages
 * claiming the healthy call and DTMF events carrying PANs. Asserted: no 5xx; refusals are the JSON
 * error shape; unsigned or forged → 403; fuzz sockets close only with 1000/1008/1009 and never join
 * the healthy call, which keeps flowing; no test PAN in any answer or log line.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VonageSimulatedCall } from '../../src/simulator/vonage/call.js';
import { VonageSigner } from '../../src/simulator/vonage/signer.js';
import { VonageStreamClient } from '../../src/simulator/vonage/stream-client.js';
import { getVonageAnswer, postVonageEvent, websocketOf } from '../../src/simulator/vonage/webhooks.js';
import { startVonageTestBed, type VonageTestBed } from '../helpers/vonage.js';
import { waitFor } from '../helpers/twilio.js';

const PANS = ['4111111111111111', '5555555555554444'];
const runs = (numRuns: number) => ({ numRuns, endOnFailure: true, ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}) });
const text = fc.oneof(fc.string({ maxLength: 120 }), fc.constantFrom(...PANS), fc.string({ unit: 'grapheme', maxLength: 40 }));
const uuid = fc.oneof(fc.constant(randomUUID()), fc.uuid(), text);
const fields = fc.record({ uuid, from: text, to: text, extra: text }, { requiredKeys: [] }).map((f) => Object.fromEntries(Object.entries(f).map(([k, v]) => [k, String(v)])));
const eventBody = fc.oneof(fc.record({ uuid, status: fc.constantFrom('started', 'ringing', 'answered', 'completed', 'failed', 'x'), extra: text }), fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue(), { maxKeys: 5 }));

describe('Vonage fuzz: webhooks and media sockets never crash, never leak, never disturb a healthy call', () => {
  let bed: VonageTestBed;
  let healthy: VonageSimulatedCall;
  let streaming = true;
  let pump: Promise<void>;

  beforeAll(async () => {
    bed = await startVonageTestBed({ http: { requestsPerMinutePerIp: 1_000_000, upgradesPerMinutePerIp: 1_000_000 } });
    healthy = await bed.dial();
    pump = (async () => {
      const frame = new Int16Array(160).map((_, i) => Math.round(3000 * Math.sin(i / 5)));
      while (streaming && healthy.caller.open) {
        healthy.caller.sendAudio(frame);
        healthy.agent.sendAudio(frame);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
  });
  afterAll(async () => {
    streaming = false;
    await pump;
    await healthy?.hangUp();
    await bed?.close();
  });

  const safe = (status: number, answer: string) => {
    expect(status).toBeLessThan(500);
    for (const pan of PANS) expect(answer).not.toContain(pan);
  };

  it('unsigned and forged webhooks are 403 with the JSON error shape', async () => {
    const stranger = new VonageSigner();
    await fc.assert(
      fc.asyncProperty(fields, eventBody, fc.constantFrom('none', 'stranger', 'garbage'), fc.constantFrom('/vonage/voice/answer', '/vonage/voice/agent', '/vonage/voice/event'), async (query, event, how, path) => {
        const payload = path.endsWith('event') ? JSON.stringify(event) : JSON.stringify(query);
        const authorization = how === 'none' ? null : how === 'stranger' ? await stranger.authorization(payload) : 'Bearer a.b.c';
        const { status, body } = path.endsWith('event') ? await postVonageEvent(bed.target, path, event, authorization) : await getVonageAnswer(bed.target, path, query, authorization);
        safe(status, body);
        expect(status).toBe(403);
        expect(JSON.parse(body)).toMatchObject({ error: { code: 'signature_invalid' } });
      }),
      runs(60),
    );
  });

  it('signed webhooks with random content are answered, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fields, eventBody, fc.constantFrom('/vonage/voice/answer', '/vonage/voice/agent', '/vonage/voice/event'), async (query, event, path) => {
        const { status, body } = path.endsWith('event') ? await postVonageEvent(bed.target, path, event) : await getVonageAnswer(bed.target, path, query);
        safe(status, body);
        expect([200, 204, 400]).toContain(status);
        if (status === 400) expect(JSON.parse(body)).toMatchObject({ error: { code: 'invalid_request' } });
      }),
      runs(80),
    );
  });

  it('garbage on upgraded media sockets never joins or disturbs the healthy call', async () => {
    const heardBefore = healthy.agent.received.length;
    const frame = fc.oneof(
      text,
      fc.json(),
      fc.uint8Array({ maxLength: 2000 }).map((bytes) => Buffer.from(bytes)),
      fc.constant(JSON.stringify({ event: 'websocket:connected', 'content-type': 'audio/l16;rate=8000', call: healthy.callId, leg: 'caller', credential: 'forged' })),
      fc.constantFrom(...PANS).map((pan) => JSON.stringify({ event: 'websocket:dtmf', digit: pan })),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 20 }), async (frames) => {
        const answer = await getVonageAnswer(bed.target, '/vonage/voice/answer', { uuid: randomUUID(), from: '447700900000', to: '447700900001' });
        const instruction = websocketOf(answer.ncco)!;
        // The socket's upgrade is valid; what it then says is not.
        const socket = await VonageStreamClient.open(bed.server.url, { instruction: { ...instruction, headers: { ...instruction.headers, call: healthy.callId } }, signer: bed.signer });
        for (const f of frames) socket.sendRaw(f);
        await new Promise((resolve) => setTimeout(resolve, 30));
        await socket.stop();
        const { code } = await socket.closed();
        expect([1000, 1005, 1006, 1008, 1009]).toContain(code);
      }),
      runs(15),
    );
    await waitFor(() => healthy.agent.received.length > heardBefore + 20);
    expect(healthy.caller.open && healthy.agent.open).toBe(true);
    expect((await fetch(`${bed.server.url}/healthz`)).status).toBe(200);
  });

  it('no log line carries a test PAN', () => {
    for (const pan of PANS) expect(bed.server.logLines.some((line) => line.includes(pan))).toBe(false);
  });
});
