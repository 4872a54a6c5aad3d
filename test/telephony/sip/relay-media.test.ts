import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SipRelayCall } from '../../../src/telephony/sip/relay/index.js';
import type { LocalMedia } from '../../../src/telephony/sip/relay/types.js';
import { multimonDigits } from '../../dsp/tools.js';
import { finalView, syntheticSpeech, TEST_AGENT, waitFor } from '../../helpers/twilio.js';
import { fakeEndpoint, startRelayBed, type FakeEndpoint, type RelayBed } from './endpoints.js';
import { PCMA, PCMU, rtpSession, senderReport, TE, type Step } from './rtp-session.js';

const PAN = '4111111111111111';

describe('codecs, rtcp-mux and hold', () => {
  let bed: RelayBed;
  let call: SipRelayCall;
  let caller: FakeEndpoint;
  let agent: FakeEndpoint;
  let callerLocal: LocalMedia;
  let agentLocal: LocalMedia;

  beforeAll(async () => {
    bed = await startRelayBed();
    bed.server.context.calls.upsert({ callSid: 'sip-media-1', state: 'ringing', startedAt: new Date().toISOString() });
    call = bed.relay.open({ callId: 'sip-media-1', caller: 'offerer' });
    callerLocal = await call.local('offerer');
    agentLocal = await call.local('answerer');
    caller = await fakeEndpoint();
    agent = await fakeEndpoint();
    // The caller speaks A-law and multiplexes RTCP; the agent speaks μ-law only.
    call.setPeer('offerer', caller.peer({ rtcpMux: true, payloads: { pcma: PCMA, telephoneEvent: TE } }));
    call.setPeer('answerer', agent.peer({ payloads: { pcmu: PCMU } }));
  });

  afterAll(async () => {
    caller?.close();
    agent?.close();
    await bed?.close();
  });

  it('transcodes between A-law and μ-law through the bridge in both directions', async () => {
    await Promise.all([
      caller.play(rtpSession([{ audio: syntheticSpeech(600) }], { codec: 'pcma', ssrc: 1 }), callerLocal.rtpPort),
      agent.play(rtpSession([{ audio: syntheticSpeech(600, 2) }], { codec: 'pcmu', ssrc: 2 }), agentLocal.rtpPort),
    ]);
    await waitFor(() => agent.received.length >= 28 && caller.received.length >= 28);
    expect(new Set(agent.received.map((p) => p.payloadType))).toEqual(new Set([PCMU]));
    expect(new Set(caller.received.map((p) => p.payloadType))).toEqual(new Set([PCMA]));
  });

  it('takes the caller’s RTCP from its RTP port (rtcp-mux) and sends the agent’s RTCP back there', async () => {
    caller.rtp.send(senderReport(1), callerLocal.rtpPort, '127.0.0.1');
    await waitFor(() => agent.rtcpReceived.length > 0);
    expect(agent.rtcpReceived[0].readUInt32BE(4)).toBe(agent.received[0].ssrc);
    agent.rtcp.send(senderReport(2), agentLocal.rtcpPort, '127.0.0.1');
    await waitFor(() => caller.rtcpReceived.length > 0);
    expect(caller.rtcpReceived[0].readUInt32BE(4)).toBe(2);
  });

  it('sends nothing to a side on hold (sendonly), and resumes when it is taken off hold', async () => {
    call.setPeer('answerer', agent.peer({ payloads: { pcmu: PCMU }, direction: 'sendonly' }));
    const before = agent.received.length;
    await caller.play(rtpSession([{ audio: syntheticSpeech(200) }], { codec: 'pcma', ssrc: 1, sequence: 5000, timestamp: 900_000 }), callerLocal.rtpPort);
    await new Promise((resolve) => setTimeout(() => resolve(undefined), 100));
    expect(agent.received.length).toBe(before);
    call.setPeer('answerer', agent.peer({ payloads: { pcmu: PCMU } }));
    await caller.play(rtpSession([{ audio: syntheticSpeech(200) }], { codec: 'pcma', ssrc: 1, sequence: 5010, timestamp: 901_600 }), callerLocal.rtpPort);
    await waitFor(() => agent.received.length >= before + 8);
  });
});

describe('forked calls and phones that send keys two ways', () => {
  let bed: RelayBed;
  const endpoints: FakeEndpoint[] = [];

  beforeAll(async () => {
    bed = await startRelayBed();
  });

  afterAll(async () => {
    for (const e of endpoints) e.close();
    await bed?.close();
  });

  it('a forked call (ng via-branch) has one bridge: the masked audio goes only to the branch the caller’s media reached, and ends the bridge with the last branch', async () => {
    const callId = 'sip-fork-1';
    const calls = bed.server.context.calls;
    calls.upsert({ callSid: callId, state: 'ringing', startedAt: new Date().toISOString() });
    const first = bed.relay.open({ callId, caller: 'offerer' });
    const second = bed.relay.open({ callId, branch: 'z9hG4bK-2', caller: 'offerer' });
    expect(() => bed.relay.open({ callId, caller: 'offerer' })).toThrow();
    const [caller, agentA, agentB] = await Promise.all([fakeEndpoint(), fakeEndpoint(), fakeEndpoint()]);
    endpoints.push(caller, agentA, agentB);
    for (const [call, agent] of [[first, agentA], [second, agentB]] as const) {
      await call.local('offerer');
      await call.local('answerer');
      call.setPeer('offerer', caller.peer());
      call.setPeer('answerer', agent.peer());
    }
    expect(calls.get(callId)?.state).toBe('bridged');
    const winnerPort = (await second.local('offerer')).rtpPort;
    await caller.play(rtpSession([{ audio: syntheticSpeech(400) }], { ssrc: 3 }), winnerPort);
    await waitFor(() => agentB.received.length >= 18);
    expect(agentA.received.length).toBe(0);
    first.close('lost_fork');
    expect(calls.get(callId)?.state).toBe('bridged');
    second.close('bye');
    expect(calls.get(callId)?.state).toBe('ended');
  });

  it('a key sent both as a tone and as RFC 4733 events counts once (the bridge merges the two reports), and the agent hears neither', async () => {
    const callId = 'sip-both-1';
    const ctx = bed.server.context;
    ctx.calls.upsert({ callSid: callId, agentId: 'agent', state: 'ringing', startedAt: new Date().toISOString() });
    const call = bed.relay.open({ callId, caller: 'offerer' });
    const callerLocal = await call.local('offerer');
    await call.local('answerer');
    const [caller, agent] = await Promise.all([fakeEndpoint(), fakeEndpoint()]);
    endpoints.push(caller, agent);
    call.setPeer('offerer', caller.peer());
    call.setPeer('answerer', agent.peer());
    const capture = ctx.captures.start({ callSid: callId, fields: [{ name: 'card_number' }], actor: TEST_AGENT });
    const keys = `${PAN}#`;
    const steps: Step[] = [{ audio: new Int16Array(1600) }, ...[...keys].flatMap((d): Step[] => [{ key: '0123456789*#'.indexOf(d), ms: 100 }, { audio: new Int16Array(960) }])];
    await caller.play(rtpSession(steps, { withTone: true, updateMs: 20 }), callerLocal.rtpPort);
    const view = await waitFor(() => finalView(bed.server, capture.id));
    expect(view).toMatchObject({ state: 'complete', result: { last4: '1111' } });
    expect(call.counters().caller.keys).toBe(keys.length);
    // The tones were in the audio too (the masker replaced them), yet the call counted each keypress once.
    call.close('bye');
    const masking = await waitFor(() => ctx.calls.get(callId)?.masking);
    expect(masking.maskedMs).toBeGreaterThan(keys.length * 50);
    expect(masking.keypresses).toBe(keys.length);
    expect(agent.received.every((p) => p.payloadType === PCMU)).toBe(true);
    expect(multimonDigits(agent.audio())).toBe('');
  });
});
