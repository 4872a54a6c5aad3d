import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SipRelayCall, SipRtpRelay } from '../../../src/telephony/sip/relay/index.js';
import { seqDiff, serializeRtp } from '../../../src/telephony/sip/rtp/packet.js';
import type { TestServer } from '../../helpers/server.js';
import { syntheticSpeech, waitFor } from '../../helpers/twilio.js';
import { fakeEndpoint, loopbackSocket, startRelayBed, type FakeEndpoint, type RelayBed } from './endpoints.js';
import { PCMU, rtpSession } from './rtp-session.js';

interface Leg {
  call: SipRelayCall;
  caller: FakeEndpoint;
  agent: FakeEndpoint;
  callerPort: number;
  callerRtcpPort: number;
}

async function openCall(server: TestServer, relay: SipRtpRelay, callId: string): Promise<Leg> {
  server.context.calls.upsert({ callSid: callId, state: 'ringing', startedAt: new Date().toISOString() });
  const call = relay.open({ callId, caller: 'answerer' });
  const callerLocal = await call.local('answerer');
  await call.local('offerer');
  const caller = await fakeEndpoint();
  const agent = await fakeEndpoint();
  call.setPeer('answerer', caller.peer());
  call.setPeer('offerer', agent.peer());
  return { call, caller, agent, callerPort: callerLocal.rtpPort, callerRtcpPort: callerLocal.rtcpPort };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(() => resolve(undefined), ms));

describe('one call’s flood and garbage never disturb another call', () => {
  let bed: RelayBed;
  let server: TestServer;
  let relay: SipRtpRelay;
  let victim: Leg;
  let flooded: Leg;
  let floodedPackets = 0;
  let floodMs = 0;
  const SPEECH_MS = 3000;

  beforeAll(async () => {
    bed = await startRelayBed();
    ({ server, relay } = bed);
    victim = await openCall(server, relay, 'sip-victim');
    flooded = await openCall(server, relay, 'sip-flooded');
    const foreign = await loopbackSocket();

    // The flooded call latches onto its caller first, with real audio.
    const valid = rtpSession([{ audio: syntheticSpeech(SPEECH_MS, 5) }], { ssrc: 77 });
    for (const p of valid.slice(0, 5)) flooded.caller.rtp.send(p.bytes, flooded.callerPort, '127.0.0.1');
    await waitFor(() => flooded.call.stats().answerer.packets === 5);

    const started = performance.now();
    let stop = false;
    const flood = (async () => {
      let seq = 0;
      while (!stop) {
        for (let i = 0; i < 40; i++, seq++) {
          const from = flooded.caller.rtp;
          switch (seq % 5) {
            case 0: // valid header, a payload type nobody negotiated
              from.send(serializeRtp({ marker: false, payloadType: 18, sequence: seq & 0xffff, timestamp: seq * 160, ssrc: 77, payload: randomBytes(20) }), flooded.callerPort, '127.0.0.1');
              break;
            case 1: // garbage from the latched source
              from.send(randomBytes(1 + (seq % 200)), flooded.callerPort, '127.0.0.1');
              break;
            case 2: // oversized
              from.send(Buffer.alloc(4000, 0x80), flooded.callerPort, '127.0.0.1');
              break;
            case 3: // a stranger, on RTP and RTCP
              foreign.send(valid[seq % valid.length].bytes, flooded.callerPort, '127.0.0.1');
              foreign.send(randomBytes(60), flooded.callerRtcpPort, '127.0.0.1');
              break;
            default: // the caller's own audio, far faster than real time
              from.send(valid[seq % valid.length].bytes, flooded.callerPort, '127.0.0.1');
          }
          floodedPackets++;
        }
        await pause(2);
      }
    })();
    await victim.caller.play(rtpSession([{ audio: syntheticSpeech(SPEECH_MS, 6) }], { ssrc: 99 }), victim.callerPort);
    stop = true;
    await flood;
    floodMs = performance.now() - started;
    foreign.close();
    await pause(200);
  }, 60_000);

  afterAll(async () => {
    for (const leg of [victim, flooded]) {
      leg?.caller.close();
      leg?.agent.close();
    }
    await bed?.close();
  });

  it('the other call’s agent hears its caller’s whole stream, in order, with no errors counted on it', () => {
    const frames = SPEECH_MS / 20;
    const received = victim.agent.received;
    expect(received.length).toBeGreaterThanOrEqual(Math.floor(frames * 0.97));
    for (let i = 1; i < received.length; i++) expect(seqDiff(received[i].sequence, received[i - 1].sequence)).toBeGreaterThan(0);
    expect(received.every((p) => p.payloadType === PCMU)).toBe(true);
    expect(victim.call.stats().answerer.errors).toBe(0);
  });

  it('the flooded call counted and dropped garbage, oversized, foreign, unknown-codec and over-rate packets', () => {
    expect(floodedPackets).toBeGreaterThan(5000);
    const c = flooded.call.counters();
    for (const key of ['oversized', 'garbage', 'foreign', 'rateLimited'] as const) expect(c.sides.answerer[key]).toBeGreaterThan(0);
    expect(c.caller.unknownPayload).toBeGreaterThan(0);
    expect(flooded.call.stats().answerer.errors).toBeGreaterThan(floodedPackets / 2);
    expect(c.relatches).toBe(0);
  });

  it('the flooded call’s own agent stream stays well-formed and no faster than real time plus the 2 s burst allowance', () => {
    const received = flooded.agent.received;
    expect(received.every((p) => p.payloadType === PCMU)).toBe(true);
    expect(new Set(received.map((p) => p.ssrc)).size).toBe(1);
    expect(received.length * 20).toBeLessThanOrEqual(floodMs + 2000 + 200);
  });
});

describe('port latching', () => {
  let bed: RelayBed;
  let server: TestServer;
  let relay: SipRtpRelay;
  let leg: Leg;

  beforeAll(async () => {
    bed = await startRelayBed();
    ({ server, relay } = bed);
    leg = await openCall(server, relay, 'sip-latch');
  });

  afterAll(async () => {
    leg?.caller.close();
    leg?.agent.close();
    await bed?.close();
  });

  it('learns the first source, drops strangers, and yields to the source the SDP named', async () => {
    const nat = await loopbackSocket();
    const stranger = await loopbackSocket();
    const packets = rtpSession([{ audio: new Int16Array(160 * 30) }], { ssrc: 5 });
    const send = (s: Socket, i: number) => s.send(packets[i].bytes, leg.callerPort, '127.0.0.1');
    for (let i = 0; i < 5; i++) send(nat, i);
    await waitFor(() => leg.call.stats().answerer.packets === 5);
    for (let i = 5; i < 10; i++) send(stranger, i);
    await waitFor(() => leg.call.counters().sides.answerer.foreign === 5);
    for (let i = 10; i < 15; i++) send(leg.caller.rtp, i);
    await waitFor(() => leg.call.stats().answerer.packets === 10);
    for (let i = 15; i < 20; i++) send(nat, i);
    await waitFor(() => leg.call.counters().sides.answerer.foreign === 10);
    expect(leg.call.counters().relatches).toBe(1);
    // The agent's audio now goes to the SDP's (and latched) address.
    const agentPackets = rtpSession([{ audio: new Int16Array(160 * 5) }], { ssrc: 6 });
    const agentPort = (await leg.call.local('offerer')).rtpPort;
    for (const p of agentPackets) leg.agent.rtp.send(p.bytes, agentPort, '127.0.0.1');
    await waitFor(() => leg.caller.received.length === 5);
    nat.close();
    stranger.close();
  });

  it('frees its ports on close, and another call can take them', async () => {
    const ports = relay.totals().ports;
    leg.call.close('bye');
    leg.call.close('again');
    expect(relay.totals()).toEqual({ calls: 0, ports: ports - 4 });
    server.context.calls.upsert({ callSid: 'sip-latch-2', state: 'ringing', startedAt: new Date().toISOString() });
    const next = relay.open({ callId: 'sip-latch-2', caller: 'offerer' });
    await next.local('offerer');
    expect(relay.totals()).toEqual({ calls: 1, ports: 2 });
    next.close('bye');
  });
});
