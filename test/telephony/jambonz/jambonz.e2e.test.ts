/**
 * jambonz end to end, against the real service with real `ws` clients speaking the `listen`
 * socket protocol (the `audio.jambonz.org` subprotocol, a metadata text message, binary L16):
 * webhooks signed with `Jambonz-Signature` as jambonz signs them, top-level bidirectional
 * `listen` answers, both legs streamed, an agent capture ending with a token, the agent-side
 * audio judged by multimon-ng; forged, stale or unsigned webhooks and media upgrades refused with
 * 403, an audit record and a metric; hostile frames on one socket never disturb another call.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { mintDevToken } from '../../../src/agent/dev-issuer.js';
import { parseListen, postJambonzWebhook, type JambonzTarget } from '../../../src/simulator/jambonz/webhooks.js';
import { jambonzSignatureHeader } from '../../../src/telephony/jambonz/signature.js';
import { startJambonzTestBed, TEST_JAMBONZ_ACCOUNT, TEST_JAMBONZ_API_KEY, TEST_JAMBONZ_SECRET, type ProviderTestBed } from '../../helpers/providers.js';
import { readAuditRecords } from '../../helpers/server.js';
import { restAgentControl, runCardCaptureScenario, syntheticSpeech, waitFor, type ScenarioResult } from '../../helpers/twilio.js';
import { upgradeRefusal } from '../../helpers/upgrade.js';

const callHook = (callSid = randomUUID()) => ({ call_sid: callSid, account_sid: TEST_JAMBONZ_ACCOUNT, direction: 'inbound', from: '+15005550006', to: '+15005550001', call_status: 'trying' });

const refusedWith = (url: string, headers: Record<string, string> = {}) => upgradeRefusal(url, headers, ['audio.jambonz.org']);

describe('jambonz end to end (real service, real ws clients in the listen socket format)', () => {
  let bed: ProviderTestBed<JambonzTarget>;
  let result: ScenarioResult;

  beforeAll(async () => {
    bed = await startJambonzTestBed();
    const token = await mintDevToken(bed.server.context.config, { sub: 'jz-agent', role: 'agent' });
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

  it('keeps jambonz call sids as the call attributes, and places the agent call through the REST API', () => {
    const call = bed.server.context.calls.get(result.callId);
    expect(call).toMatchObject({ callSid: result.callId, provider: 'jambonz', providerCallId: result.callId, agentId: 'jz-agent', state: 'ended' });
    const create = bed.standIn.requests.find((r) => r.method === 'POST')!;
    expect(create.path).toBe(`/v1/Accounts/${TEST_JAMBONZ_ACCOUNT}/Calls`);
    expect(create.authorization).toBe(`Bearer ${TEST_JAMBONZ_API_KEY}`);
    expect(create.body).toMatchObject({
      to: { type: 'user', name: 'jz-agent' },
      call_hook: { url: `https://toneguard.test/jambonz/voice/agent?call=${result.callId}`, method: 'POST' },
      call_status_hook: { url: 'https://toneguard.test/jambonz/status/call', method: 'POST' },
    });
    expect(call?.agentProviderCallId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers with one top-level bidirectional listen; a replayed call hook gets a hangup', async () => {
    const body = callHook();
    const answer = await postJambonzWebhook(bed.target, '/jambonz/voice/inbound', body);
    expect(answer.status).toBe(200);
    const [listen] = JSON.parse(answer.body) as Record<string, unknown>[];
    expect(listen).toMatchObject({ verb: 'listen', url: 'wss://toneguard.test/media/jambonz', actionHook: 'https://toneguard.test/jambonz/voice/listen-ended', mixType: 'mono', sampleRate: 8000, passDtmf: true, bidirectionalAudio: { enabled: true, streaming: true, sampleRate: 8000 } });
    expect(Object.keys(parseListen(answer.body)!.metadata)).toEqual(['leg', 'credential']);
    const replay = await postJambonzWebhook(bed.target, '/jambonz/voice/inbound', body);
    expect(JSON.parse(replay.body)).toEqual([{ verb: 'hangup' }]);
    const ended = await postJambonzWebhook(bed.target, '/jambonz/voice/listen-ended', body);
    expect(JSON.parse(ended.body)).toEqual([{ verb: 'hangup' }]);
  });

  it('refuses forged, stale and unsigned webhooks with 403, a metric and a jambonz.signature_failed audit record', async () => {
    const forged = await postJambonzWebhook({ ...bed.target, webhookSecret: 'not-the-secret' }, '/jambonz/voice/inbound', callHook());
    expect(forged.status).toBe(403);
    expect(JSON.parse(forged.body)).toEqual({ error: { code: 'signature_invalid', message: 'Missing or invalid jambonz signature' } });
    const body = callHook();
    const stale = jambonzSignatureHeader(TEST_JAMBONZ_SECRET, JSON.stringify(body), Math.floor(Date.now() / 1000) - 3600);
    expect((await postJambonzWebhook(bed.target, '/jambonz/voice/inbound', body, stale)).status).toBe(403);
    expect((await postJambonzWebhook(bed.target, '/jambonz/status/call', { call_sid: result.callId, call_status: 'completed' }, null)).status).toBe(403);
    // Signed over other bytes than the body sent (the same JSON, re-spaced).
    const respaced = await request(bed.server.server).post('/jambonz/voice/inbound').set('content-type', 'application/json').set('jambonz-signature', jambonzSignatureHeader(TEST_JAMBONZ_SECRET, JSON.stringify(body))).send(JSON.stringify(body, null, 1));
    expect(respaced.status).toBe(403);
    const metrics = await request(bed.server.server).get('/metrics');
    expect(metrics.text).toMatch(/toneguard_webhook_signature_failures_total\{route="\/jambonz\/voice\/inbound"\} 3/);
    expect(metrics.text).toMatch(/toneguard_webhook_signature_failures_total\{route="\/jambonz\/status\/call"\} 1/);
    await waitFor(() => readAuditRecords(bed.server.dataDir).filter((r) => r.action === 'jambonz.signature_failed').length >= 4);
    const refused = readAuditRecords(bed.server.dataDir).filter((r) => r.action === 'jambonz.signature_failed');
    expect(new Set(refused.map((r) => r.details?.reason))).toEqual(new Set(['invalid', 'missing']));
    expect(refused[0].actor).toMatchObject({ type: 'telephony', id: 'jambonz' });
  });

  it('refuses a media upgrade without the listen credentials: 403, a metric, an audit record', async () => {
    const url = `${bed.server.url.replace(/^http/, 'ws')}/media/jambonz`;
    expect(await refusedWith(url)).toBe(403);
    expect(await refusedWith(url, { authorization: `Basic ${Buffer.from('toneguard:guess').toString('base64')}` })).toBe(403);
    const metrics = await request(bed.server.server).get('/metrics');
    expect(metrics.text).toMatch(/toneguard_webhook_signature_failures_total\{route="\/media\/jambonz"\} 2/);
    await waitFor(() => readAuditRecords(bed.server.dataDir).some((r) => r.action === 'jambonz.signature_failed' && r.details?.route === '/media/jambonz'));
  });

  it('hostile frames on one socket never disturb another call', async () => {
    const live = (await bed.player.dial()) as unknown as { callId: string; caller: { sendAudio(s: Int16Array): void }; agent: { received: Int16Array[] }; hangUp(): Promise<void> };
    await waitFor(() => bed.server.context.calls.get(live.callId)?.state === 'bridged');
    const listen = parseListen((await postJambonzWebhook(bed.target, '/jambonz/voice/inbound', callHook())).body)!;
    const auth = `Basic ${Buffer.from(`${listen.wsAuth!.username}:${listen.wsAuth!.password}`).toString('base64')}`;
    const ws = new WebSocket(`${bed.server.url.replace(/^http/, 'ws')}/media/jambonz`, ['audio.jambonz.org'], { headers: { authorization: auth } });
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
    expect(ws.protocol).toBe('audio.jambonz.org');
    ws.send(Buffer.alloc(321), { binary: true });
    for (const frame of ['{oops', '[]', JSON.stringify({ event: 'dtmf', dtmf: '4' }), JSON.stringify({ type: 'what' })]) ws.send(frame);
    ws.send(JSON.stringify({ sampleRate: 8000, mixType: 'mono', callSid: live.callId, leg: 'caller', credential: 'forged' }));
    expect(await closed).toBe(1008);
    const before = live.agent.received.length;
    const speech = syntheticSpeech(400);
    for (let i = 0; i < speech.length; i += 160) live.caller.sendAudio(speech.subarray(i, i + 160));
    await waitFor(() => live.agent.received.length >= before + 10);
    expect(bed.server.context.calls.get(live.callId)?.state).toBe('bridged');
    await live.hangUp();
    await waitFor(() => readAuditRecords(bed.server.dataDir).some((r) => r.action === 'media.stream_refused' && r.actor.id === 'jambonz' && r.details?.reason === 'credential_invalid'));
    expect((await request(bed.server.server).get('/healthz')).status).toBe(200);
  }, 30_000);
});
