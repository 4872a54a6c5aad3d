/**
 * Plivo end to end, against the real service with real `ws` clients speaking Plivo's audio
 * stream protocol: answer-URL webhooks signed with X-Plivo-Signature-V3 (as the plivo SDK
 * validates them), `<Stream bidirectional keepCallAlive>` answers, both legs streamed, an agent
 * capture ending with a token, the agent-side audio judged by multimon-ng; forged or unsigned
 * webhooks and media upgrades refused with 403, an audit record and a metric; hostile frames on
 * one socket never disturb another call.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { mintDevToken } from '../../../src/agent/dev-issuer.js';
import { parseStreamXml, postPlivoWebhook } from '../../../src/simulator/plivo/webhooks.js';
import { startPlivoTestBed, TEST_PLIVO_AUTH_ID, TEST_PLIVO_AUTH_TOKEN, type ProviderTestBed } from '../../helpers/providers.js';
import { readAuditRecords } from '../../helpers/server.js';
import { restAgentControl, runCardCaptureScenario, syntheticSpeech, waitFor, type ScenarioResult } from '../../helpers/twilio.js';
import type { PlivoTarget } from '../../../src/simulator/plivo/webhooks.js';
import { upgradeRefusal } from '../../helpers/upgrade.js';

const inbound = (callUuid = randomUUID()) => ({ CallUUID: callUuid, From: '+15005550006', To: '+15005550001', Direction: 'inbound', CallStatus: 'ringing' });

const refusedWith = upgradeRefusal;

describe('Plivo end to end (real service, real ws clients in Plivo format)', () => {
  let bed: ProviderTestBed<PlivoTarget>;
  let result: ScenarioResult;

  beforeAll(async () => {
    bed = await startPlivoTestBed();
    const token = await mintDevToken(bed.server.context.config, { sub: 'pv-agent', role: 'agent' });
    result = await runCardCaptureScenario({ player: bed.player, agent: async () => restAgentControl(bed.server.url, token), speed: 2 });
  }, 90_000);

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

  it('keeps Plivo ids as the call attributes: the caller CallUUID is the neutral id, the agent call its request_uuid', () => {
    const call = bed.server.context.calls.get(result.callId);
    expect(call).toMatchObject({ callSid: result.callId, provider: 'plivo', providerCallId: result.callId, agentId: 'pv-agent', state: 'ended' });
    const create = bed.standIn.requests.find((r) => r.method === 'POST')!;
    expect(call?.agentProviderCallId).toMatch(/^[0-9a-f-]{36}$/);
    expect(create.path).toBe(`/v1/Account/${TEST_PLIVO_AUTH_ID}/Call/`);
    expect(create.authorization).toBe(`Basic ${Buffer.from(`${TEST_PLIVO_AUTH_ID}:${TEST_PLIVO_AUTH_TOKEN}`).toString('base64')}`);
    expect(create.body).toMatchObject({
      to: 'sip:pv-agent@phone.plivo.com',
      answer_url: `https://toneguard.test/plivo/voice/agent?call=${result.callId}`,
      answer_method: 'POST',
      hangup_url: 'https://toneguard.test/plivo/voice/hangup',
    });
  });

  it('answers with one bidirectional stream that runs alone; a replayed answer URL gets <Hangup/>', async () => {
    const params = inbound();
    const answer = await postPlivoWebhook(bed.target, '/plivo/voice/inbound', params);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatch(/<Stream bidirectional="true" keepCallAlive="true" audioTrack="inbound" contentType="audio\/x-mulaw;rate=8000"/);
    const stream = parseStreamXml(answer.body)!;
    expect(stream.url).toMatch(/^wss:\/\/toneguard\.test\/media\/plivo\?auth=[A-Za-z0-9_-]{43}$/);
    expect(stream.extraHeaders).toMatch(/^([A-Za-z0-9]+=[A-Za-z0-9]+,?)+$/);
    expect(Object.keys(stream.parameters)).toEqual(['leg', 'credential']);
    const replay = await postPlivoWebhook(bed.target, '/plivo/voice/inbound', params);
    expect(replay.body).toContain('<Hangup/>');
  });

  it('refuses an agent answer for a call it did not place', async () => {
    const answer = await postPlivoWebhook(bed.target, `/plivo/voice/agent?call=${randomUUID()}`, { CallUUID: randomUUID(), RequestUUID: randomUUID() });
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('<Hangup/>');
    await waitFor(() => readAuditRecords(bed.server.dataDir).some((r) => r.action === 'plivo.webhook_refused' && r.details?.reason === 'agent_call_not_placed'));
  });

  it('refuses forged and unsigned webhooks with 403, a metric and a plivo.signature_failed audit record', async () => {
    const forged = await postPlivoWebhook({ ...bed.target, authToken: 'not-the-auth-token' }, '/plivo/voice/inbound', inbound());
    expect(forged.status).toBe(403);
    expect(JSON.parse(forged.body)).toEqual({ error: { code: 'signature_invalid', message: 'Missing or invalid Plivo signature' } });
    const unsigned = await postPlivoWebhook(bed.target, '/plivo/voice/hangup', { CallUUID: result.callId }, null);
    expect(unsigned.status).toBe(403);
    const metrics = await request(bed.server.server).get('/metrics');
    expect(metrics.text).toMatch(/toneguard_webhook_signature_failures_total\{route="\/plivo\/voice\/inbound"\} 1/);
    expect(metrics.text).toMatch(/toneguard_webhook_signature_failures_total\{route="\/plivo\/voice\/hangup"\} 1/);
    await waitFor(() => readAuditRecords(bed.server.dataDir).filter((r) => r.action === 'plivo.signature_failed').length >= 2);
    const refused = readAuditRecords(bed.server.dataDir).filter((r) => r.action === 'plivo.signature_failed');
    expect(refused.map((r) => r.details?.reason).sort()).toEqual(['invalid', 'missing']);
    expect(refused[0].actor).toMatchObject({ type: 'telephony', id: 'plivo' });
  });

  it('refuses a media upgrade without the socket token or a valid signature: 403, a metric, an audit record', async () => {
    const url = `${bed.server.url.replace(/^http/, 'ws')}/media/plivo`;
    expect(await refusedWith(url)).toBe(403);
    expect(await refusedWith(`${url}?auth=${'A'.repeat(43)}`)).toBe(403);
    expect(await refusedWith(url, { 'x-plivo-signature-v3': 'Zm9yZ2Vk', 'x-plivo-signature-v3-nonce': '1234' })).toBe(403);
    const metrics = await request(bed.server.server).get('/metrics');
    expect(metrics.text).toMatch(/toneguard_webhook_signature_failures_total\{route="\/media\/plivo"\} 3/);
    await waitFor(() => readAuditRecords(bed.server.dataDir).some((r) => r.action === 'plivo.signature_failed' && r.details?.route === '/media/plivo'));
  });

  it('hostile frames on one socket never disturb another call', async () => {
    const live = (await bed.player.dial()) as unknown as { callId: string; caller: { sendAudio(s: Int16Array): void }; agent: { received: Int16Array[] }; hangUp(): Promise<void> };
    await waitFor(() => bed.server.context.calls.get(live.callId)?.state === 'bridged');
    const answer = await postPlivoWebhook(bed.target, '/plivo/voice/inbound', inbound());
    const stream = parseStreamXml(answer.body)!;
    const ws = new WebSocket(`${bed.server.url.replace(/^http/, 'ws')}${new URL(stream.url).pathname}${new URL(stream.url).search}`);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
    for (const frame of ['{oops', '[]', JSON.stringify({ event: 'media', media: { payload: 'AAAA' } }), JSON.stringify({ event: 'media', media: { payload: '!'.repeat(5000) } }), JSON.stringify({ event: 'dtmf', dtmf: { digit: '4' } })]) ws.send(frame);
    ws.send(Buffer.alloc(640), { binary: true });
    // A start that claims the live call with a credential of its own making.
    ws.send(JSON.stringify({ event: 'start', start: { callId: live.callId, streamId: randomUUID(), mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000 } }, extra_headers: 'leg=63616c6c6572;credential=6d' }));
    expect(await closed).toBe(1008);
    const before = live.agent.received.length;
    const speech = syntheticSpeech(400);
    for (let i = 0; i < speech.length; i += 160) live.caller.sendAudio(speech.subarray(i, i + 160));
    await waitFor(() => live.agent.received.length >= before + 10);
    expect(bed.server.context.calls.get(live.callId)?.state).toBe('bridged');
    await live.hangUp();
    await waitFor(() => readAuditRecords(bed.server.dataDir).some((r) => r.action === 'media.stream_refused' && r.actor.id === 'plivo' && r.details?.reason === 'credential_invalid'));
    expect((await request(bed.server.server).get('/healthz')).status).toBe(200);
  }, 30_000);
});
