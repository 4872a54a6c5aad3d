import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '../../../src/agent/dev-issuer.js';
import { VonageSigner } from '../../../src/simulator/vonage/signer.js';
import { VonageStreamClient } from '../../../src/simulator/vonage/stream-client.js';
import { getVonageAnswer, postVonageEvent, websocketOf } from '../../../src/simulator/vonage/webhooks.js';
import { VONAGE_AGENT, startVonageTestBed, type VonageTestBed } from '../../helpers/vonage.js';
import { keypadTones, restAgentControl, runCardCaptureScenario, waitFor, type ScenarioResult } from '../../helpers/twilio.js';

const ANSWER = '/vonage/voice/answer';
const EVENT = '/vonage/voice/event';
const answerFields = () => ({ uuid: randomUUID(), conversation_uuid: `CON-${randomUUID()}`, from: '447700900000', to: '447700900001' });

describe('Vonage end to end: NCCO websockets, binary L16, JWT-signed webhooks (real service, real ws clients)', () => {
  let bed: VonageTestBed;
  let result: ScenarioResult;

  beforeAll(async () => {
    bed = await startVonageTestBed();
    const token = await mintDevToken(bed.server.context.config, { sub: VONAGE_AGENT, role: 'agent' });
    result = await runCardCaptureScenario({ player: bed.player, agent: async () => restAgentControl(bed.server.url, token), speed: 2 });
  }, 60_000);
  afterAll(async () => {
    await bed?.close();
  });

  it('captures the card from keyed tones and websocket:dtmf events; the agent heard no digit (multimon-ng) and got a token', () => {
    expect(result.capture.state).toBe('complete');
    expect(result.capture.result?.token).toMatch(/\S{8,}/);
    expect(result.agentHeard).toMatchObject({ digits: '', decoder: 'multimon-ng' });
    expect(result.agentHeard.seconds).toBeGreaterThan(5);
    expect(result.success).toBe(true);
  });

  it('placed the agent call through the Voice API with its own answer URL, signed with the application key', () => {
    const created = bed.standIn.requests.filter((r) => r.method === 'POST');
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(created[0]).toMatchObject({ authorized: true, body: { to: [{ type: 'app', user: 'agent' }], from: { type: 'phone', number: '447700900009' } } });
    expect(String((created[0].body.answer_url as string[])[0])).toMatch(/^https:\/\/toneguard\.test\/vonage\/voice\/agent\?call=[0-9a-f-]{36}$/);
  });

  it('each leg gets its own NCCO connect to the websocket, with Vonage JWT on the upgrade; sent audio is exact 20 ms frames', async () => {
    const answer = await getVonageAnswer(bed.target, ANSWER, answerFields());
    const socket = websocketOf(answer.ncco);
    expect(socket).toMatchObject({ uri: 'wss://toneguard.test/media/vonage', contentType: 'audio/l16;rate=8000', authorization: { type: 'vonage' } });
    expect(Object.keys(socket?.headers ?? {}).sort()).toEqual(['call', 'credential', 'leg']);
    const call = await bed.dial();
    await call.callerPlays(keypadTones('7').audio, 4, false);
    await waitFor(() => call.agent.received.length > 5);
    expect(call.agent.oddFrames + call.caller.oddFrames).toBe(0);
    await call.hangUp();
  });

  it('the caller hanging up hangs up the agent call', async () => {
    const call = await bed.dial();
    await postVonageEvent(bed.target, EVENT, { uuid: call.callId, status: 'completed' });
    await bed.standIn.waitFor((r) => r.method === 'PUT' && r.uuid === call.agentCallId);
    await waitFor(() => !call.agent.open && !call.caller.open);
  });

  it('refuses unsigned, forged, stale and tampered webhooks: 403, an audit record and a metric', async () => {
    const fields = answerFields();
    const stranger = new VonageSigner();
    const forged = await stranger.authorization(JSON.stringify(fields));
    const stale = await bed.signer.authorization(JSON.stringify(fields), Math.floor(Date.now() / 1000) - 3600);
    const otherPayload = await bed.signer.authorization(JSON.stringify({ ...fields, from: '447700900099' }));
    for (const authorization of [null, 'Bearer nope', forged, stale, otherPayload]) {
      const answer = await getVonageAnswer(bed.target, ANSWER, fields, authorization);
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.body)).toEqual({ error: { code: 'signature_invalid', message: 'Missing or invalid Vonage signature' } });
    }
    expect((await postVonageEvent(bed.target, EVENT, { uuid: fields.uuid, status: 'completed' }, forged)).status).toBe(403);
    await waitFor(() => bed.server.auditRecords().filter((r) => r.action === 'vonage.signature_failed').length >= 6);
    expect(await bed.server.context.metrics.render()).toMatch(/toneguard_webhook_signature_failures_total\{route="\/vonage\/voice\/answer"\} [5-9]/);
    expect(bed.server.context.calls.get(fields.uuid)).toBeUndefined();
  });

  it('a replayed answer webhook gets an empty NCCO', async () => {
    const fields = answerFields();
    const first = await getVonageAnswer(bed.target, ANSWER, fields);
    expect(websocketOf(first.ncco)).toBeDefined();
    const again = await getVonageAnswer(bed.target, ANSWER, fields);
    expect(again.ncco).toEqual([]);
  });

  it('refuses media upgrades without Vonage JWT or with a forged one: 403 and audited', async () => {
    const answer = await getVonageAnswer(bed.target, ANSWER, answerFields());
    const instruction = websocketOf(answer.ncco)!;
    await expect(VonageStreamClient.open(bed.server.url, { instruction, signer: bed.signer, authorization: null })).rejects.toThrow('upgrade refused: 403');
    await expect(VonageStreamClient.open(bed.server.url, { instruction, signer: bed.signer, authorization: await new VonageSigner().authorization() })).rejects.toThrow('upgrade refused: 403');
    await waitFor(() => bed.server.auditRecords().filter((r) => r.action === 'vonage.signature_failed' && (r.details as { route?: string }).route === '/media/vonage').length >= 2);
  });

  it('hostile frames on one call never crash the service nor disturb another call', async () => {
    const healthy = await bed.dial();
    const hostile = await bed.dial();
    const heardBefore = healthy.agent.received.length;
    const hostileFrames: (string | Buffer)[] = [
      '{',
      '[]',
      JSON.stringify({ event: 'websocket:connected', 'content-type': 'audio/l16;rate=8000', call: healthy.callId, leg: 'caller', credential: 'x' }),
      JSON.stringify({ event: 'websocket:dtmf', digit: '4111111111111111' }),
      Buffer.alloc(3),
      Buffer.alloc(64_000),
      '\u0000'.repeat(1000),
    ];
    for (const frame of hostileFrames) hostile.caller.sendRaw(frame);
    for (let i = 0; i < 300; i++) hostile.caller.sendRaw(Buffer.alloc(7), true);
    const tones = keypadTones('5');
    await Promise.all([healthy.callerPlays(tones.audio, 4, false), healthy.agentPlays(new Int16Array(tones.audio.length), 4)]);
    await waitFor(() => healthy.agent.received.length > heardBefore + 10);
    expect(healthy.caller.open && healthy.agent.open).toBe(true);
    await waitFor(() => !hostile.caller.open);
    expect((await fetch(`${bed.server.url}/healthz`)).status).toBe(200);
    await healthy.hangUp();
    await hostile.hangUp();
  });
});
