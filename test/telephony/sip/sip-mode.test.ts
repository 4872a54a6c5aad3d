import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '../../../src/agent/dev-issuer.js';
import { deepMerge, loadConfig, parseConfig } from '../../../src/config/index.js';
import { productionProblems } from '../../../src/config/validate.js';
import type { RtpRelayDeps } from '../../../src/telephony/sip/index.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { completeProductionConfig } from '../../helpers/production.js';
import { FakeRelay, phoneSdp } from './fakes.js';
import { NgClient } from './ng-client.js';

let server: TestServer;
let client: NgClient;
let relay: FakeRelay;
let built: RtpRelayDeps | undefined;
let cookie = 0;
const ng = (dict: Record<string, unknown>) => client.command(`t_${++cookie}`, dict);
const bearer = async (sub: string, role: 'agent' | 'supervisor') => `Bearer ${await mintDevToken(server.context.config, { sub, role })}`;
const offerFor = (callId: string, extra: Record<string, unknown> = {}) => ng({ command: 'offer', 'call-id': callId, 'from-tag': 'A', sdp: phoneSdp('192.0.2.10', 2000), ...extra });

beforeAll(async () => {
  relay = new FakeRelay();
  server = await startTestServer(
    { sip: { ng: { listen: 'udp:127.0.0.1:0' }, rtp: { portRange: '31000-31999', advertisedAddress: '203.0.113.7' } } },
    {
      rtpRelay: (deps) => {
        built = deps;
        return relay;
      },
    },
  );
  client = await NgClient.open(server.sip!.ngAddress.port);
});
afterAll(async () => {
  await client?.close();
  await server?.close();
});

describe('SIP mode inside the service: calls bound by toneguard-agent work like Twilio calls', () => {
  it('builds the relay from the configuration, with the media service to attach legs to', () => {
    expect(built).toMatchObject({ portRange: { low: 31000, high: 31999 }, advertisedAddress: '203.0.113.7' });
    expect(typeof built?.media.attachTrusted).toBe('function');
  });

  it('lists a bound call for its agent and supervisors, lets the agent capture, and ends it on delete', async () => {
    expect((await offerFor('sip-call-bound', { 'toneguard-agent': 'alice' }))?.result).toBe('ok');
    const id = relay.opened.at(-1)!.callId;
    const alice = await bearer('alice', 'agent');
    const listed = await request(server.url).get('/v1/calls').set('authorization', alice).expect(200);
    expect(listed.body.calls).toEqual([expect.objectContaining({ callSid: id, agentId: 'alice', state: 'ringing' })]);
    expect(JSON.stringify(listed.body)).not.toContain('sip-call-bound');
    const others = await request(server.url).get('/v1/calls').set('authorization', await bearer('bob', 'agent')).expect(200);
    expect(others.body.calls).toEqual([]);
    const sue = await request(server.url).get('/v1/calls').set('authorization', await bearer('sue', 'supervisor')).expect(200);
    expect(sue.body.calls.map((c: { callSid: string }) => c.callSid)).toContain(id);

    await ng({ command: 'answer', 'call-id': 'sip-call-bound', 'from-tag': 'A', 'to-tag': 'B', sdp: phoneSdp('198.51.100.20', 4000) });
    expect(server.context.calls.get(id)?.state).toBe('bridged');
    const capture = await request(server.url).post(`/v1/calls/${id}/captures`).set('authorization', alice).send({ fields: ['card_number'] }).expect(201);

    expect((await ng({ command: 'delete', 'call-id': 'sip-call-bound', 'from-tag': 'A' }))?.result).toBe('ok');
    expect(server.context.calls.get(id)?.state).toBe('ended');
    const after = await request(server.url).get(`/v1/captures/${capture.body.id}`).set('authorization', alice).expect(200);
    expect(after.body.view.state).toBe('cancelled');
    expect((await request(server.url).get('/v1/calls').set('authorization', alice).expect(200)).body.calls).toEqual([]);
  });

  it('refuses a capture on a call no agent is bound to (409 call_unbound), though supervisors see it', async () => {
    await offerFor('sip-call-unbound');
    const id = relay.opened.at(-1)!.callId;
    const sue = await bearer('sue', 'supervisor');
    const refused = await request(server.url).post(`/v1/calls/${id}/captures`).set('authorization', sue).send({ fields: ['card_number'] }).expect(409);
    expect(refused.body.error.code).toBe('call_unbound');
    // Bound later (the PBX named the agent in its 200): captures may start.
    await ng({ command: 'answer', 'call-id': 'sip-call-unbound', 'from-tag': 'A', 'to-tag': 'B', sdp: phoneSdp('198.51.100.20', 4000), 'toneguard-agent': 'carol' });
    await request(server.url).post(`/v1/calls/${id}/captures`).set('authorization', await bearer('carol', 'agent')).send({ fields: ['card_number'] }).expect(201);
    await ng({ command: 'delete', 'call-id': 'sip-call-unbound' });
  });
});

describe('SIP mode configuration and safety', () => {
  it('reads the environment variables of the contract', () => {
    const config = loadConfig({ env: { TONEGUARD_NG_LISTEN: 'udp:10.0.0.5:2223', TONEGUARD_NG_ALLOW_FROM: '10.0.0.2, 10.0.0.3', TONEGUARD_RTP_PORTS: '30000-30999', TONEGUARD_RTP_ADDRESS: '203.0.113.10', TONEGUARD_RTP_TIMEOUT_MS: '30000' } });
    expect(config.sip).toMatchObject({ ng: { listen: 'udp:10.0.0.5:2223', allowFrom: ['10.0.0.2', '10.0.0.3'] }, rtp: { portRange: '30000-30999', advertisedAddress: '203.0.113.10', timeoutMs: 30_000 } });
  });

  it('refuses malformed listen addresses, port ranges and allow-list entries', () => {
    for (const sip of [{ ng: { listen: 'tcp:127.0.0.1:2223' } }, { ng: { listen: 'udp:localhost:2223' } }, { ng: { listen: 'udp:127.0.0.1:99999' } }, { rtp: { portRange: '3000-2000' } }, { rtp: { portRange: '80-90' } }, { ng: { allowFrom: ['kamailio.local'] } }]) {
      expect(() => parseConfig({ sip }), JSON.stringify(sip)).toThrow(/invalid configuration/);
    }
    expect(parseConfig({ sip: { ng: { listen: 'udp6:[::1]:2223' } } }).sip.ng.listen).toBe('udp6:[::1]:2223');
  });

  it('refuses production when ng listens beyond loopback without an allow-list', () => {
    const problems = (sip: Record<string, unknown>) => productionProblems(parseConfig(deepMerge(completeProductionConfig(), { sip })));
    expect(problems({ ng: { listen: 'udp:0.0.0.0:2223' } })).toEqual([expect.stringContaining('sip.ng.allowFrom (TONEGUARD_NG_ALLOW_FROM)')]);
    expect(problems({ ng: { listen: 'udp:127.0.0.1:2223' } })).toEqual([]);
    expect(problems({ ng: { listen: 'udp:0.0.0.0:2223', allowFrom: ['10.0.0.2'] } })).toEqual([]);
  });

  it('runs SIP mode over the masking RTP relay when none is injected: an offer gets ports from the range', async () => {
    const real = await startTestServer({ sip: { ng: { listen: 'udp:127.0.0.1:0' }, rtp: { portRange: '38200-38299', advertisedAddress: '127.0.0.1' } } });
    const caller = await NgClient.open(real.sip!.ngAddress.port);
    try {
      const reply = await caller.command('real_1', { command: 'offer', 'call-id': 'real-relay', 'from-tag': 'A', sdp: phoneSdp('127.0.0.1', 2000) });
      expect(reply?.result).toBe('ok');
      const port = Number(/^m=audio (\d+)/m.exec(String(reply?.sdp))?.[1]);
      expect(port).toBeGreaterThanOrEqual(38200);
      expect(port).toBeLessThanOrEqual(38299);
    } finally {
      await caller.close();
      await real.close();
    }
  });

  it('folds a flood of refused datagrams into few audit records', async () => {
    const walled = await startTestServer({ sip: { ng: { listen: 'udp:127.0.0.1:0', allowFrom: ['10.9.9.9'] } }, audit: { failureBurst: 3 } }, { rtpRelay: () => new FakeRelay() });
    const flooder = await NgClient.open(walled.sip!.ngAddress.port);
    await Promise.all(Array.from({ length: 30 }, (_, i) => flooder.command(`f${i}`, { command: 'ping' }, 200)));
    await flooder.close();
    await walled.close();
    const refusals = walled.auditRecords().filter((r) => r.action === 'sip.ng_refused');
    expect(refusals.length).toBeLessThanOrEqual(4);
    expect(refusals.reduce((n, r) => n + (r.details?.coalesced === true ? Number(r.details.count) : 1), 0)).toBe(30);
  });
});
