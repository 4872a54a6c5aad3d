import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '../../../src/agent/dev-issuer.js';
import { TelnyxStreamClient } from '../../../src/simulator/telnyx/stream-client.js';
import { TelnyxSigner } from '../../../src/simulator/telnyx/signer.js';
import { postTelnyxWebhook, telnyxEvent } from '../../../src/simulator/telnyx/webhooks.js';
import { randomCallControlId } from '../../../src/simulator/telnyx/rest-stand-in.js';
import { TELNYX_AGENT, startTelnyxTestBed, type TelnyxTestBed } from '../../helpers/telnyx.js';
import { keypadTones, restAgentControl, runCardCaptureScenario, waitFor, type ScenarioResult } from '../../helpers/twilio.js';

const EVENTS = '/telnyx/voice/events';

describe('Telnyx end to end: Call Control, Ed25519 webhooks, reordered media (real service, real ws clients)', () => {
  let bed: TelnyxTestBed;
  let result: ScenarioResult;

  beforeAll(async () => {
    bed = await startTelnyxTestBed();
    const token = await mintDevToken(bed.server.context.config, { sub: TELNYX_AGENT, role: 'agent' });
    result = await runCardCaptureScenario({
      player: { name: 'telnyx', dial: (request) => bed.dial({ ...request, shuffleWindow: 3 }) },
      agent: async () => restAgentControl(bed.server.url, token),
      speed: 2,
    });
  }, 60_000);
  afterAll(async () => {
    await bed?.close();
  });

  it('captures the card from keyed tones delivered out of order; the agent heard no digit (independent decoder) and got a token', () => {
    expect(result.capture.state).toBe('complete');
    expect(result.capture.result?.token).toMatch(/\S{8,}/);
    expect(result.agentHeard).toMatchObject({ digits: '', decoder: 'multimon-ng' });
    expect(result.agentHeard.seconds).toBeGreaterThan(5);
    expect(result.success).toBe(true);
  });

  it('answered the caller, streamed both legs bidirectionally as RTP of their own audio, never bridged', () => {
    const commands = bed.standIn.commands;
    const streams = commands.filter((c) => c.action === 'streaming_start');
    expect(streams).toHaveLength(2);
    for (const s of streams) expect(s.body).toMatchObject({ stream_bidirectional_mode: 'rtp', stream_track: 'inbound_track', stream_bidirectional_target_legs: 'self', stream_bidirectional_codec: 'PCMU' });
    expect(commands.some((c) => c.action === 'bridge')).toBe(false);
    expect(commands.every((c) => c.apiKey === 'KEY0123456789ABCDEF_test')).toBe(true);
    const dial = commands.find((c) => c.action === 'dial');
    expect(dial?.body).toMatchObject({ to: TELNYX_AGENT, from: '+15005550009', connection_id: '1684641123236054244' });
  });

  it('the reorder window put frames back in order and counted it', async () => {
    const metrics = await bed.server.context.metrics.render();
    const reordered = /toneguard_media_frames_reordered_total\{outcome="reordered"\} (\d+)/.exec(metrics);
    expect(Number(reordered?.[1] ?? 0)).toBeGreaterThan(10);
  });

  it('the caller hanging up hangs up both legs', async () => {
    const call = await bed.dial();
    await postTelnyxWebhook(bed.target, EVENTS, telnyxEvent('call.hangup', { call_control_id: call.callId, hangup_cause: 'normal_clearing' }));
    await bed.standIn.waitFor((c) => c.action === 'hangup' && c.callControlId === call.agentCallId);
    await waitFor(() => !call.agent.open && !call.caller.open);
  });

  it('refuses unsigned, forged and stale webhooks: 403, an audit record and a metric; nothing is answered', async () => {
    const before = bed.standIn.commands.length;
    const event = telnyxEvent('call.initiated', { call_control_id: randomCallControlId(), from: '+15005550006', to: '+15005550001', direction: 'incoming' });
    const body = JSON.stringify(event);
    const stranger = new TelnyxSigner();
    const replayed = bed.signer.headers(body, Math.floor(Date.now() / 1000) - 600);
    for (const headers of [{}, stranger.headers(body), replayed, { ...bed.signer.headers(body), 'telnyx-signature-ed25519': stranger.headers(body)['telnyx-signature-ed25519'] }]) {
      const answer = await postTelnyxWebhook(bed.target, EVENTS, event, headers);
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.body)).toEqual({ error: { code: 'signature_invalid', message: 'Missing or invalid Telnyx signature' } });
    }
    // A body changed after signing.
    const tampered = await fetch(`${bed.server.url}${EVENTS}`, { method: 'POST', headers: { 'content-type': 'application/json', ...bed.signer.headers(body) }, body: body.replace('+15005550006', '+15005550007') });
    expect(tampered.status).toBe(403);
    await waitFor(() => bed.server.auditRecords().filter((r) => r.action === 'telnyx.signature_failed').length >= 5);
    expect(await bed.server.context.metrics.render()).toMatch(/toneguard_webhook_signature_failures_total\{route="\/telnyx\/voice\/events"\} [5-9]/);
    expect(bed.standIn.commands.length).toBe(before);
  });

  it('a replayed call.initiated is not answered twice', async () => {
    const event = telnyxEvent('call.initiated', { call_control_id: randomCallControlId(), from: '+15005550006', to: '+15005550001', direction: 'incoming' });
    const id = (event.data as { payload: { call_control_id: string } }).payload.call_control_id;
    expect((await postTelnyxWebhook(bed.target, EVENTS, event)).status).toBe(200);
    expect((await postTelnyxWebhook(bed.target, EVENTS, event)).status).toBe(200);
    await bed.standIn.waitFor((c) => c.action === 'answer' && c.callControlId === id);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(bed.standIn.commands.filter((c) => c.action === 'answer' && c.callControlId === id)).toHaveLength(1);
    await waitFor(() => bed.server.auditRecords().some((r) => r.action === 'telnyx.webhook_refused' && r.resource?.id === id));
  });

  it('refuses media upgrades without the leg token, with another leg’s token, or naming no leg: 403 and audited', async () => {
    const call = await bed.dial();
    const streamUrl = `wss://toneguard.test/media/telnyx?call=${encodeURIComponent(call.callId)}`;
    const open = (authToken: string | null, url = streamUrl) => TelnyxStreamClient.open(bed.server.url, { callControlId: call.callId, command: { stream_url: url, stream_auth_token: 'unused' }, authToken });
    await expect(open(null)).rejects.toThrow('upgrade refused: 403');
    await expect(open('forged-token')).rejects.toThrow('upgrade refused: 403');
    const agentToken = bed.standIn.commands.find((c) => c.action === 'streaming_start' && c.callControlId === call.agentCallId)?.body.stream_auth_token as string;
    await expect(open(agentToken)).rejects.toThrow('upgrade refused: 403');
    await expect(open(agentToken, 'wss://toneguard.test/media/telnyx')).rejects.toThrow('upgrade refused: 403');
    await waitFor(() => bed.server.auditRecords().filter((r) => r.action === 'telnyx.signature_failed' && (r.details as { route?: string }).route === '/media/telnyx').length >= 4);
    await call.hangUp();
  });

  it('hostile frames on one call never crash the service nor disturb another call', async () => {
    const healthy = await bed.dial();
    const hostile = await bed.dial();
    const heardBefore = healthy.agent.received.length;
    const hostileFrames = [
      '{',
      '[]',
      JSON.stringify({ event: 'media', sequence_number: '9007199254740993', media: { payload: 'AAAA' } }),
      JSON.stringify({ event: 'media', sequence_number: '-1', media: { payload: '!!!!' } }),
      JSON.stringify({ event: 'media', media: { payload: Buffer.alloc(100_000).toString('base64') } }),
      JSON.stringify({ event: 'start', stream_id: 'x', start: { call_control_id: healthy.callId, media_format: { encoding: 'PCMU' } } }),
      JSON.stringify({ event: 'dtmf', dtmf: { digit: '4111111111111111' } }),
      JSON.stringify({ event: 'mark', mark: { name: 'x'.repeat(10_000) } }),
      '\u0000'.repeat(1000),
    ];
    for (const frame of hostileFrames) hostile.caller.sendRaw(frame);
    for (let i = 0; i < 300; i++) hostile.caller.sendRaw(JSON.stringify({ event: 'media', sequence_number: String(1000 - i), media: { payload: Buffer.alloc(160, 0xff).toString('base64') } }));
    const tones = keypadTones('5');
    await Promise.all([healthy.callerPlays(tones.audio, 4, false), healthy.agentPlays(new Int16Array(tones.audio.length), 4)]);
    await waitFor(() => healthy.agent.received.length > heardBefore + 10);
    expect(healthy.caller.open && healthy.agent.open).toBe(true);
    expect(hostile.caller.open).toBe(false);
    expect((await fetch(`${bed.server.url}/healthz`)).status).toBe(200);
    await healthy.hangUp();
    await hostile.hangUp();
  });
});
