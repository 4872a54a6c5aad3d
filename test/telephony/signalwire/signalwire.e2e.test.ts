/**
 * SignalWire end to end, against the real service with real `ws` clients speaking SignalWire's
 * stream format: webhooks signed with the signing key (checked by the service with SignalWire's
 * own SDK), cXML `<Connect><Stream>` with its bearer token, both legs streamed, an agent capture
 * ending with a token, the agent-side audio judged by multimon-ng; forged webhooks and upgrades
 * refused with 403, an audit record and a metric.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { mintDevToken } from '../../../src/agent/dev-issuer.js';
import { readAuditRecords } from '../../helpers/server.js';
import { startSignalWireTestBed, TEST_SIGNALWIRE_PROJECT, TEST_SIGNALWIRE_TOKEN } from '../../helpers/signalwire.js';
import { parseStreamTwiml, postTwilioWebhook, restAgentControl, runCardCaptureScenario, signTwilio, waitFor, type ScenarioResult, type TwilioTestBed } from '../../helpers/twilio.js';
import { upgradeRefusal } from '../../helpers/upgrade.js';

const SIGNALWIRE_SIGNING = { signatureHeader: 'x-signalwire-signature', sign: signTwilio };

describe('SignalWire end to end (real service, real ws clients in SignalWire format)', () => {
  let bed: TwilioTestBed;
  let result: ScenarioResult;

  beforeAll(async () => {
    bed = await startSignalWireTestBed({ signalwire: { agentTarget: 'client:sw-agent' } });
    const token = await mintDevToken(bed.server.context.config, { sub: 'sw-agent', role: 'agent' });
    result = await runCardCaptureScenario({ player: bed.player, agent: async () => restAgentControl(bed.server.url, token), speed: 2 });
  }, 60_000);

  afterAll(async () => {
    await bed?.close();
  });

  it('plays a whole call: the capture ends with a token, and multimon-ng hears no digit in what the agent heard', () => {
    expect(result.agentHeard).toMatchObject({ digits: '', decoder: 'multimon-ng' });
    expect(result.agentHeard.seconds).toBeGreaterThan(5);
    expect(result.capture.state).toBe('complete');
    expect(result.capture.result?.token).toMatch(/^tok_/);
    expect(result.success).toBe(true);
  });

  it('keeps SignalWire ids as the call attributes, and the neutral id is the caller call UUID', () => {
    const call = bed.server.context.calls.get(result.callId);
    expect(call).toMatchObject({ callSid: result.callId, provider: 'signalwire', providerCallId: result.callId, agentId: 'sw-agent', state: 'ended' });
    expect(call?.agentProviderCallId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('places the agent call through the Compatibility REST API with the project credentials', () => {
    const create = bed.standIn.requests.find((r) => r.path.endsWith('/Calls.json'))!;
    expect(create.path).toBe(`/api/laml/2010-04-01/Accounts/${TEST_SIGNALWIRE_PROJECT}/Calls.json`);
    expect(create.basicAuth).toBe(`${TEST_SIGNALWIRE_PROJECT}:${TEST_SIGNALWIRE_TOKEN}`);
    expect(create.params).toMatchObject({ To: 'client:sw-agent', Url: `${bed.target.publicUrl}/signalwire/voice/agent?call=${result.callId}`, StatusCallback: `${bed.target.publicUrl}/signalwire/status/call` });
  });

  it('answers with a bidirectional cXML stream: realtime, a bearer token, no codec attribute for PCMU, the leg in parameters', async () => {
    const params = { AccountSid: TEST_SIGNALWIRE_PROJECT, CallSid: randomUUID(), From: '+15005550006', To: '+15005550001' };
    const answer = await postTwilioWebhook(bed.target, '/signalwire/voice/inbound', params, undefined, SIGNALWIRE_SIGNING);
    expect(answer.status).toBe(200);
    const stream = parseStreamTwiml(answer.body)!;
    expect(stream.url).toBe('wss://toneguard.test/media/signalwire');
    expect(stream.attributes).toMatchObject({ realtime: 'true', statusCallback: 'https://toneguard.test/signalwire/status/stream' });
    expect(stream.attributes.authBearerToken).toMatch(/^[0-9a-z]+\.[A-Za-z0-9_-]{43}$/);
    expect(stream.attributes.codec).toBeUndefined();
    expect(Object.keys(stream.parameters)).toEqual(['leg', 'credential']);
    // The same webhook, replayed, is hung up.
    const replay = await postTwilioWebhook(bed.target, '/signalwire/voice/inbound', params, undefined, SIGNALWIRE_SIGNING);
    expect(replay.body).toContain('<Hangup/>');
  });

  it('accepts the signature in X-Twilio-Signature too (cXML compatibility)', async () => {
    const params = { AccountSid: TEST_SIGNALWIRE_PROJECT, CallSid: randomUUID() };
    const answer = await postTwilioWebhook(bed.target, '/signalwire/voice/inbound', params, undefined, { signatureHeader: 'x-twilio-signature', sign: signTwilio });
    expect(answer.status).toBe(200);
  });

  it('refuses forged and unsigned webhooks with 403, a metric and a signalwire.signature_failed audit record', async () => {
    const params = { AccountSid: TEST_SIGNALWIRE_PROJECT, CallSid: randomUUID() };
    const forged = await postTwilioWebhook({ ...bed.target, authToken: 'not-the-signing-key' }, '/signalwire/voice/inbound', params, undefined, SIGNALWIRE_SIGNING);
    expect(forged.status).toBe(403);
    expect(JSON.parse(forged.body)).toEqual({ error: { code: 'signature_invalid', message: 'Missing or invalid SignalWire signature' } });
    const unsigned = await request(bed.server.server).post('/signalwire/status/call').type('form').send(params);
    expect(unsigned.status).toBe(403);
    const metrics = await request(bed.server.server).get('/metrics');
    expect(metrics.text).toMatch(/toneguard_webhook_signature_failures_total\{route="\/signalwire\/voice\/inbound"\} 1/);
    expect(metrics.text).toMatch(/toneguard_webhook_signature_failures_total\{route="\/signalwire\/status\/call"\} 1/);
    await waitFor(() => readAuditRecords(bed.server.dataDir).filter((r) => r.action === 'signalwire.signature_failed').length >= 2);
    const refused = readAuditRecords(bed.server.dataDir).filter((r) => r.action === 'signalwire.signature_failed');
    expect(refused.map((r) => r.details?.reason).sort()).toEqual(['invalid', 'missing']);
    expect(refused[0].actor).toMatchObject({ type: 'telephony', id: 'signalwire' });
  });

  it('refuses a media upgrade without a live bearer token or a valid signature: 403, a metric, an audit record', async () => {
    const wsUrl = `${bed.server.url.replace(/^http/, 'ws')}/media/signalwire`;
    const refusedWith = (headers: Record<string, string>) => upgradeRefusal(wsUrl, headers);
    expect(await refusedWith({})).toBe(403);
    expect(await refusedWith({ authorization: `Bearer ${'z'.repeat(8)}.${'A'.repeat(43)}` })).toBe(403);
    expect(await refusedWith({ 'x-signalwire-signature': 'Zm9yZ2Vk' })).toBe(403);
    const metrics = await request(bed.server.server).get('/metrics');
    expect(metrics.text).toMatch(/toneguard_webhook_signature_failures_total\{route="\/media\/signalwire"\} 3/);
    await waitFor(() => readAuditRecords(bed.server.dataDir).some((r) => r.action === 'signalwire.signature_failed' && r.details?.route === '/media/signalwire'));
  });

  it('runs an L16@16000h caller stream at 16 kHz: the start is accepted and its audio flows', async () => {
    const callSid = randomUUID();
    const answer = await postTwilioWebhook(bed.target, '/signalwire/voice/inbound', { AccountSid: TEST_SIGNALWIRE_PROJECT, CallSid: callSid }, undefined, SIGNALWIRE_SIGNING);
    const stream = parseStreamTwiml(answer.body)!;
    const ws = new WebSocket(`${bed.server.url.replace(/^http/, 'ws')}/media/signalwire`, { headers: { authorization: `Bearer ${stream.attributes.authBearerToken}` } });
    const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const streamSid = randomUUID();
    const start = {
      event: 'start',
      sequenceNumber: '1',
      start: { streamSid, accountSid: TEST_SIGNALWIRE_PROJECT, callSid, tracks: ['inbound'], customParameters: stream.parameters, mediaFormat: { encoding: 'audio/x-L16', sampleRate: 16000, channels: 1 } },
    };
    // As the documentation prints it: inside an envelope whose rawEvent is the message.
    ws.send(JSON.stringify({ timestamp: Date.now(), direction: 'inbound', eventType: 'start', streamSid, sequenceNumber: 1, rawEvent: start }));
    const frame = Buffer.alloc(640).toString('base64');
    for (let i = 0; i < 10; i++) ws.send(JSON.stringify({ event: 'media', sequenceNumber: String(i + 2), streamSid, media: { track: 'inbound', chunk: String(i + 1), timestamp: String(i * 20), payload: frame } }));
    const outcome = await Promise.race([closed, new Promise((resolve) => setTimeout(() => resolve('open'), 500))]);
    expect(outcome).toBe('open');
    expect(readAuditRecords(bed.server.dataDir).some((r) => r.action === 'media.stream_refused' && r.resource?.id === callSid)).toBe(false);
    ws.close();
    await closed;
  });
});
