/**
 * Telnyx fuzz: one running service with a healthy Telnyx call streaming both legs. Fuzzed with
 * fast-check: Call Control webhooks (random JSON and text bodies, Telnyx-shaped events with random
 * fields and ids), unsigned, wrongly signed and correctly signed; and media sockets upgraded with a
 * valid leg token that then send random text, random JSON, Telnyx-shaped frames with bad payloads,
 * wild sequence numbers and starts claiming the healthy call. Asserted: no 5xx; refusals are the
 * JSON error shape; unsigned or forged → 403; fuzz sockets close only with 1000/1008/1009 and never
 * join the healthy call, which keeps flowing; no test PAN in any answer or log line.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomCallControlId } from '../../src/simulator/telnyx/rest-stand-in.js';
import { TelnyxSigner } from '../../src/simulator/telnyx/signer.js';
import { TelnyxStreamClient } from '../../src/simulator/telnyx/stream-client.js';
import { postTelnyxWebhook, telnyxEvent } from '../../src/simulator/telnyx/webhooks.js';
import type { TelnyxSimulatedCall } from '../../src/simulator/telnyx/call.js';
import { startTelnyxTestBed, type TelnyxTestBed } from '../helpers/telnyx.js';
import { waitFor } from '../helpers/twilio.js';

const PANS = ['4111111111111111', '5555555555554444'];
const runs = (numRuns: number) => ({ numRuns, endOnFailure: true, ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}) });
const EVENTS = '/telnyx/voice/events';
const text = fc.oneof(fc.string({ maxLength: 200 }), fc.constantFrom(...PANS), fc.string({ unit: 'grapheme', maxLength: 50 }));
const field = fc.oneof(text, fc.integer(), fc.constant(null), fc.boolean(), fc.array(text, { maxLength: 3 }));
const eventType = fc.constantFrom('call.initiated', 'call.answered', 'call.hangup', 'streaming.started', 'streaming.stopped', 'streaming.failed', 'call.dtmf.received', 'nope');
const callId = fc.oneof(fc.constant(randomCallControlId()), fc.string({ maxLength: 40 }), fc.constantFrom(...PANS));
const shapedEvent = fc.record({ type: eventType, id: callId, extra: fc.dictionary(fc.string({ maxLength: 12 }), field, { maxKeys: 5 }), direction: fc.constantFrom('incoming', 'outgoing', 'x') }).map(({ type, id, extra, direction }) =>
  JSON.stringify(telnyxEvent(type, { ...extra, call_control_id: id, direction: direction as 'incoming' })),
);
const body = fc.oneof(shapedEvent, fc.json(), text);

describe('Telnyx fuzz: webhooks and media sockets never crash, never leak, never disturb a healthy call', () => {
  let bed: TelnyxTestBed;
  let healthy: TelnyxSimulatedCall;
  let streaming = true;
  let pump: Promise<void>;

  beforeAll(async () => {
    bed = await startTelnyxTestBed({ http: { requestsPerMinutePerIp: 1_000_000, upgradesPerMinutePerIp: 1_000_000 } });
    healthy = await bed.dial();
    // The healthy call streams both legs for the whole file.
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

  const post = async (raw: string, headers: Record<string, string>) => {
    const response = await fetch(`${bed.server.url}${EVENTS}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: raw });
    const answer = await response.text();
    expect(response.status).toBeLessThan(500);
    for (const pan of PANS) expect(answer).not.toContain(pan);
    return { status: response.status, answer };
  };

  it('unsigned and forged webhooks are 403 with the JSON error shape', async () => {
    const stranger = new TelnyxSigner();
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom('none', 'stranger', 'garbage'), async (raw, how) => {
        const headers = how === 'none' ? {} : how === 'stranger' ? stranger.headers(raw) : { 'telnyx-signature-ed25519': 'AAAA', 'telnyx-timestamp': 'x' };
        const { status, answer } = await post(raw, headers);
        expect(status).toBe(403);
        expect(JSON.parse(answer)).toMatchObject({ error: { code: 'signature_invalid' } });
      }),
      runs(60),
    );
  });

  it('signed webhooks with random content are answered 200 or 400, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(body, async (raw) => {
        const { status, answer } = await post(raw, bed.signer.headers(raw));
        expect([200, 400]).toContain(status);
        if (status === 400) expect(JSON.parse(answer)).toMatchObject({ error: { code: 'invalid_request' } });
      }),
      runs(80),
    );
  });

  it('garbage on upgraded media sockets never joins or disturbs the healthy call', async () => {
    const heardBefore = healthy.agent.received.length;
    const frame = fc.oneof(
      text,
      fc.json(),
      fc.record({ seq: fc.oneof(fc.integer(), fc.string({ maxLength: 20 })), payload: fc.oneof(fc.base64String({ maxLength: 400 }), text) }).map(({ seq, payload }) => JSON.stringify({ event: 'media', sequence_number: seq, media: { payload } })),
      fc.constant(JSON.stringify({ event: 'start', sequence_number: '1', stream_id: 'S1', start: { call_control_id: healthy.callId, custom_parameters: { leg: 'caller', credential: 'forged' }, media_format: { encoding: 'PCMU', sample_rate: 8000 } } })),
      fc.constantFrom(...PANS).map((pan) => JSON.stringify({ event: 'dtmf', dtmf: { digit: pan } })),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 20 }), fc.boolean(), async (frames, startFirst) => {
        // A fresh leg of its own, with a valid upgrade token: only the stream start can be wrong.
        const call = await bed.dial();
        const command = bed.standIn.commands.find((c) => c.action === 'streaming_start' && c.callControlId === call.callId)!.body;
        const socket = await TelnyxStreamClient.open(bed.server.url, { callControlId: startFirst ? call.callId : healthy.callId, command: command as never });
        for (const f of frames) socket.sendRaw(f);
        await new Promise((resolve) => setTimeout(resolve, 30));
        await socket.stop();
        const { code } = await socket.closed();
        expect([1000, 1005, 1006, 1008, 1009]).toContain(code);
        await call.hangUp();
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
