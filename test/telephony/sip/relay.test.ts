import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMulaw } from '../../../src/dsp/index.js';
import { recordingsDir, type MediaService } from '../../../src/media/index.js';
import { verifyRecording } from '../../../src/media/recording-verify.js';
import type { SipRelayCall, SipRtpRelay } from '../../../src/telephony/sip/relay/index.js';
import { seqDiff } from '../../../src/telephony/sip/rtp/packet.js';
import { multimonDigits } from '../../dsp/tools.js';
import type { TestServer } from '../../helpers/server.js';
import { concatSamples, finalView, keypadTones, syntheticSpeech, TEST_AGENT, waitFor } from '../../helpers/twilio.js';
import { fakeEndpoint, startRelayBed, type FakeEndpoint, type RelayBed } from './endpoints.js';
import { PCMU, receiverReport, rtpSession, senderReport, TE, type SentPacket, type Step } from './rtp-session.js';

const PAN = '4111111111111111';
/** The card number keyed in-band; expiry and CVV sent as RFC 4733 events (the second three of the CVV in RFC 2198 red). */
const INBAND = `${PAN}#`;
const EXPIRY = '1230';
const CVV = '947';
const KEYPAD = '0123456789*#';
const CALLER_SSRC = 0x0badcafe;

function callerScript(): SentPacket[] {
  const keyed = keypadTones(INBAND);
  const events: Step[] = [...`${EXPIRY}${CVV}`].flatMap((d) => [{ key: KEYPAD.indexOf(d), ms: 120 }, { audio: new Int16Array(8 * 100) }]);
  const steps: Step[] = [{ audio: concatSamples([syntheticSpeech(600), keyed.audio]) }, ...events, { audio: syntheticSpeech(400, 2) }];
  return rtpSession(steps, { ssrc: CALLER_SSRC, sequence: 65500, timestamp: 0xfffff000 });
}

describe('the SIP RTP relay: a call through real UDP sockets, masked by the media bridge', () => {
  let bed: RelayBed;
  let server: TestServer;
  let media: MediaService;
  let relay: SipRtpRelay;
  let call: SipRelayCall;
  let caller: FakeEndpoint;
  let agent: FakeEndpoint;
  let captureId: string;
  let sent: SentPacket[];
  const callId = 'sip-relay-test-1';

  beforeAll(async () => {
    bed = await startRelayBed();
    ({ server, media, relay } = bed);
    const ctx = server.context;
    caller = await fakeEndpoint();
    agent = await fakeEndpoint();
    ctx.calls.upsert({ callSid: callId, agentId: 'agent', state: 'ringing', startedAt: new Date().toISOString() });
    call = relay.open({ callId, caller: 'offerer' });
    const callerLocal = await call.local('offerer');
    const agentLocal = await call.local('answerer');
    call.setPeer('offerer', caller.peer());
    call.setPeer('answerer', agent.peer());
    expect(ctx.calls.get(callId)?.state).toBe('bridged');
    captureId = ctx.captures.start({ callSid: callId, fields: [{ name: 'card_number' }, { name: 'expiry' }, { name: 'cvv' }], actor: TEST_AGENT }).id;

    sent = callerScript();
    const durationMs = sent[sent.length - 1].atMs;
    const agentSpeech = rtpSession([{ audio: syntheticSpeech(durationMs, 3) }], { ssrc: 0xa9e17, sequence: 7 });
    const callerRtcp = senderReport(CALLER_SSRC);
    caller.rtcp.send(callerRtcp, callerLocal.rtcpPort, '127.0.0.1');
    await Promise.all([caller.play(sent, callerLocal.rtpPort), agent.play(agentSpeech, agentLocal.rtpPort)]);
    agent.rtcp.send(receiverReport(0xa9e17, agent.received[0]?.ssrc ?? 0), agentLocal.rtcpPort, '127.0.0.1');
    await waitFor(() => finalView(server, captureId));
    await waitFor(() => caller.rtcpReceived.length > 0 && agent.rtcpReceived.length > 0);
  }, 60_000);

  afterAll(async () => {
    caller?.close();
    agent?.close();
    await bed?.close();
  });

  it('completes the capture with a token from in-band keys and RFC 4733 events together', () => {
    const view = server.context.captures.get(captureId)?.view();
    expect(view?.state).toBe('complete');
    expect(view?.result?.token).toBeTruthy();
    expect(view?.result?.last4).toBe('1111');
    expect(call.counters().caller.keys).toBe(EXPIRY.length + CVV.length);
  });

  it('no telephone-event (or red) packet reaches the agent: only PCMU under one SSRC that is not the caller’s', () => {
    expect(agent.received.length).toBeGreaterThan(100);
    expect(new Set(agent.received.map((p) => p.payloadType))).toEqual(new Set([PCMU]));
    expect(sent.some((p) => p.bytes[1] % 128 === TE)).toBe(true);
    const ssrcs = new Set(agent.received.map((p) => p.ssrc));
    expect(ssrcs.size).toBe(1);
    expect(ssrcs.has(CALLER_SSRC)).toBe(false);
  });

  it('the agent’s stream has continuous sequence numbers and timestamps (through both wraps), marker on the first packet only', () => {
    const first = agent.received[0].sequence;
    const ordered = [...agent.received].sort((a, b) => seqDiff(a.sequence, first) - seqDiff(b.sequence, first));
    for (let i = 1; i < ordered.length; i++) {
      expect(seqDiff(ordered[i].sequence, ordered[i - 1].sequence)).toBe(1);
      expect((ordered[i].timestamp - ordered[i - 1].timestamp) >>> 0).toBe(160);
    }
    expect(ordered[0].marker).toBe(true);
    expect(ordered.slice(1).some((p) => p.marker)).toBe(false);
    // Every 20 ms of the caller's time reached the agent: the events' time was filled, not skipped.
    const callerSamples = sent.filter((p) => p.kind === 'audio').length * 160 + (EXPIRY.length + CVV.length) * 960;
    expect(ordered.length * 160).toBeGreaterThanOrEqual(callerSamples - 3 * 160);
  });

  it('multimon-ng decodes no digit from what the agent heard, and every in-band digit from what the caller sent', () => {
    expect(multimonDigits(agent.audio())).toBe('');
    expect(multimonDigits(sentAudio(sent))).toBe(INBAND);
  });

  it('the agent’s audio reaches the caller under the agent’s own SSRC and sequence', () => {
    const fromAgent = caller.received.filter((p) => p.ssrc === 0xa9e17);
    expect(fromAgent.length).toBeGreaterThan(100);
    expect(fromAgent.every((p) => p.payloadType === PCMU)).toBe(true);
  });

  it('relays RTCP both ways, mapping the caller’s SSRC to the re-originated stream’s and back', () => {
    const egress = agent.received[0].ssrc;
    const atAgent = agent.rtcpReceived[0];
    expect(atAgent.readUInt32BE(4)).toBe(egress);
    const atCaller = caller.rtcpReceived[0];
    expect(atCaller.readUInt32BE(8)).toBe(CALLER_SSRC);
  });

  it('reports per-side stats for query and an idle time', () => {
    const stats = call.stats();
    expect(stats.offerer.packets).toBe(sent.length);
    expect(stats.answerer.packets).toBeGreaterThan(100);
    expect(stats.offerer.errors).toBe(0);
    expect(call.idleMs()).toBeLessThan(60_000);
    expect(relay.totals()).toEqual({ calls: 1, ports: 4 });
  });

  it('feeds the media frame metrics by leg', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/^toneguard_media_frames_in_total\{leg="caller"\} [1-9]/m);
    expect(text).toMatch(/^toneguard_media_frames_out_total\{leg="agent"\} [1-9]/m);
  });

  it('records the masked call; the recording verifies clean (the keyed digits are gone from both channels)', async () => {
    call.close('test_done');
    expect(relay.totals()).toEqual({ calls: 0, ports: 0 });
    await media.closeAll();
    const dir = recordingsDir(server.context.config);
    const files = await waitFor(() => {
      const names = readdirSync(dir).filter((n) => n.startsWith(callId) && n.endsWith('.tgrec'));
      return names.length === 1 ? names : undefined;
    });
    const result = verifyRecording(join(dir, files[0]), server.context.keyring);
    expect(result).toMatchObject({ ok: true, clean: true });
    if (result.ok) expect(result.durationMs).toBeGreaterThan(3000);
    expect(server.context.calls.get(callId)?.state).toBe('ended');
  });
});

/** What the caller sent (audio packets only), decoded: the check that the tones were there to mask. */
function sentAudio(packets: SentPacket[]): Int16Array {
  const audio = packets.filter((p) => p.kind === 'audio').map((p) => p.bytes.subarray(12));
  const out = new Int16Array(audio.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of audio) {
    decodeMulaw(a, out.subarray(at, at + a.length));
    at += a.length;
  }
  return out;
}
