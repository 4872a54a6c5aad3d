import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ACCOUNT_SID } from '../helpers/server.js';
import {
  parseStreamTwiml,
  postTwilioWebhook,
  randomSid,
  signTwilio,
  startTwilioTestBed,
  TwilioStreamClient,
  type TwilioTestBed,
} from '../helpers/twilio.js';

/** `{expiry}.{nonce}.{mac}`: see src/media/stream-credentials.ts. */
const CREDENTIAL = /^[0-9a-z]+\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/;
const inboundParams = () => ({ AccountSid: TEST_ACCOUNT_SID, CallSid: randomSid('CA'), From: '+15005550006', To: '+15005550001', CallStatus: 'ringing' });

describe('Twilio voice webhooks', () => {
  let bed: TwilioTestBed;

  beforeAll(async () => {
    bed = await startTwilioTestBed();
  });
  afterAll(async () => {
    await bed?.close();
  });

  it('answers an inbound call with a bidirectional <Connect><Stream> to the public wss URL, leg and stream credential as parameters', async () => {
    const answer = await postTwilioWebhook(bed.target, '/twilio/voice/inbound', inboundParams());
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('<Connect><Stream');
    expect(answer.body).not.toContain('<Start>');
    const stream = parseStreamTwiml(answer.body);
    expect(stream?.url).toBe('wss://toneguard.test/media/twilio');
    expect(stream?.parameters.leg).toBe('caller');
    expect(stream?.parameters.credential).toMatch(CREDENTIAL);
    expect(Object.keys(stream?.parameters ?? {}).sort()).toEqual(['credential', 'leg']);
  });

  it('answers the agent leg it placed with leg=agent, the agent identity from the client: target and a credential', async () => {
    const params = inboundParams();
    await postTwilioWebhook(bed.target, '/twilio/voice/inbound', params);
    const { request: create, callSid: agentCallSid } = await bed.standIn.waitForCall((r) => r.params.Url.endsWith(`call=${params.CallSid}`));
    const answer = await postTwilioWebhook(bed.target, create.params.Url, { AccountSid: TEST_ACCOUNT_SID, CallSid: agentCallSid });
    const stream = parseStreamTwiml(answer.body);
    expect(stream?.parameters).toMatchObject({ leg: 'agent', agent: 'agent', credential: expect.stringMatching(CREDENTIAL) });
  });

  it('answers each CallSid once: a repeated inbound webhook gets <Hangup/> and places no second agent leg', async () => {
    const params = inboundParams();
    const first = parseStreamTwiml((await postTwilioWebhook(bed.target, '/twilio/voice/inbound', params)).body);
    const again = await postTwilioWebhook(bed.target, '/twilio/voice/inbound', params);
    expect(first).toBeDefined();
    expect(again.status).toBe(200);
    expect(again.body).toContain('<Hangup/>');
    await bed.standIn.waitForCall((r) => r.params.Url.endsWith(`call=${params.CallSid}`));
    expect(bed.standIn.requests.filter((r) => r.params.Url?.endsWith(`call=${params.CallSid}`))).toHaveLength(1);
  });

  it('refuses a forged or missing webhook signature with 403, a metric and an audit event', async () => {
    const forged = await postTwilioWebhook(bed.target, '/twilio/voice/inbound', inboundParams(), signTwilio('wrong-token', 'https://toneguard.test/twilio/voice/inbound', {}));
    expect(forged.status).toBe(403);
    const missing = await request(bed.server.server).post('/twilio/voice/inbound').type('form').send(inboundParams());
    expect(missing.status).toBe(403);
    // Signed for the Host header rather than the public URL: refused too.
    const params = inboundParams();
    const hostSigned = await postTwilioWebhook(bed.target, '/twilio/voice/inbound', params, signTwilio(bed.target.authToken, `${bed.server.url}/twilio/voice/inbound`, params));
    expect(hostSigned.status).toBe(403);
    const metrics = await request(bed.server.server).get('/metrics');
    expect(metrics.text).toMatch(/toneguard_webhook_signature_failures_total\{route="\/twilio\/voice\/inbound"\} 3/);
    expect(bed.server.logLines.some((l) => l.includes('twilio signature refused'))).toBe(true);
  });

  it('refuses a WebSocket upgrade with a forged signature, and accepts a signed one', async () => {
    const forged = TwilioStreamClient.open(bed.target, { callSid: randomSid('CA'), accountSid: TEST_ACCOUNT_SID, parameters: {}, signature: 'Zm9yZ2Vk' });
    await expect(forged).rejects.toThrow(/403/);
    const unsigned = TwilioStreamClient.open({ ...bed.target, authToken: 'wrong-token' }, { callSid: randomSid('CA'), accountSid: TEST_ACCOUNT_SID, parameters: {} });
    await expect(unsigned).rejects.toThrow(/403/);
    const metrics = await request(bed.server.server).get('/metrics');
    expect(metrics.text).toMatch(/toneguard_webhook_signature_failures_total\{route="\/media\/twilio"\} 2/);
  });

  it('records an audit event for every refused signature, with the source address', () => {
    (bed.server.context.audit as { flush?: () => void }).flush?.();
    const dir = join(bed.server.dataDir, 'audit');
    const events = readdirSync(dir)
      .flatMap((file) => readFileSync(join(dir, file), 'utf8').split('\n'))
      .filter((line) => line.includes('twilio.signature_failed'));
    expect(events.length).toBeGreaterThanOrEqual(5);
    expect(events[0]).toContain('127.0.0.1');
  });

  it('ends a call on a completed status callback and ignores unknown fields', async () => {
    const params = inboundParams();
    await postTwilioWebhook(bed.target, '/twilio/voice/inbound', params);
    const status = await postTwilioWebhook(bed.target, '/twilio/status/call', { CallSid: params.CallSid, CallStatus: 'completed', SomethingNew: 'x' });
    expect(status.status).toBe(204);
    expect(bed.server.context.calls.get(params.CallSid)?.state).toBe('ended');
    const stream = await postTwilioWebhook(bed.target, '/twilio/status/stream', { CallSid: params.CallSid, StreamEvent: 'stream-stopped', StreamSid: 'MZ1' });
    expect(stream.status).toBe(204);
    const bad = await postTwilioWebhook(bed.target, '/twilio/status/call', { CallStatus: 'completed' });
    expect(bad.status).toBe(400);
  });
});

describe('signature validation switched off (development profile only)', () => {
  it('accepts unsigned webhooks and upgrades, and the service warns at startup', async () => {
    const bed = await startTwilioTestBed({ twilio: { validateSignatures: false } });
    try {
      const answer = await request(bed.server.server).post('/twilio/voice/inbound').type('form').send(inboundParams());
      expect(answer.status).toBe(200);
      const stream = await TwilioStreamClient.open(bed.target, { callSid: randomSid('CA'), accountSid: TEST_ACCOUNT_SID, parameters: {}, signature: 'none' });
      await stream.closed();
      expect(bed.server.logLines.some((l) => l.includes('Twilio signature validation is OFF'))).toBe(true);
    } finally {
      await bed.close();
    }
  });
});
