import { describe, expect, it } from 'vitest';
import { parseCommand, type NgCommand } from '../../../src/telephony/sip/ng/command.js';
import type { NgDict, NgValue } from '../../../src/telephony/sip/ng/document.js';
import { parseSdp } from '../../../src/telephony/sip/sdp/audio.js';
import { SipSessions } from '../../../src/telephony/sip/session/sessions.js';
import { FakeRelay, phoneSdp, RecordingBinding } from './fakes.js';

const ADVERTISED = '203.0.113.7';
const CALLER = '192.0.2.10';
const AGENT = '198.51.100.20';

function setup(options: { low?: number; high?: number } = {}) {
  let now = 1_000_000;
  const relay = new FakeRelay(options.low, options.high);
  const binding = new RecordingBinding();
  const ended: string[] = [];
  const sessions = new SipSessions({ relay, binding, advertisedAddress: ADVERTISED, timeoutMs: 60_000, silentTimeoutMs: 3_600_000, now: () => now, onCallEnded: (r) => ended.push(r) });
  const send = async (fields: Record<string, NgValue>): Promise<NgDict> => {
    const parsed = parseCommand(Object.assign(Object.create(null) as NgDict, fields));
    if (!parsed.ok) throw new Error(parsed.reason);
    return sessions.handle(parsed.command as NgCommand);
  };
  const offer = (fields: Record<string, NgValue> = {}) => send({ command: 'offer', 'call-id': 'call-1', 'from-tag': 'A', sdp: phoneSdp(CALLER, 2000), ...fields });
  const answer = (fields: Record<string, NgValue> = {}) => send({ command: 'answer', 'call-id': 'call-1', 'from-tag': 'A', 'to-tag': 'B', sdp: phoneSdp(AGENT, 4000), ...fields });
  return { relay, binding, sessions, send, offer, answer, ended, advance: (ms: number) => (now += ms) };
}

const sdpOf = (reply: NgDict) => parseSdp(String(reply.sdp))!;
const portOf = (reply: NgDict) => sdpOf(reply).media[0].port;

describe('SIP sessions: offer, answer, delete, query over a relay', () => {
  it('offer opens a relay call and writes the answerer-side port and advertised address; answer the offerer side', async () => {
    const { relay, binding, offer, answer } = setup();
    const offered = await offer({ 'toneguard-agent': 'alice' });
    expect(offered.result).toBe('ok');
    const [call] = relay.opened;
    expect(call.options.caller).toBe('offerer');
    expect(call.callId).toMatch(/^sip-[0-9a-f-]{36}$/);
    expect(portOf(offered)).toBe(call.ports.answerer!.rtpPort);
    expect(sdpOf(offered).connection?.ip).toBe(ADVERTISED);
    expect(sdpOf(offered).origin.address).toBe(ADVERTISED);
    expect(call.peer('offerer')).toMatchObject({ address: CALLER, port: 2000, payloads: { pcmu: 0, pcma: 8, telephoneEvent: 101 } });
    expect(binding.calls.get(call.callId)).toEqual({ agentId: 'alice', state: 'ringing' });

    const answered = await answer();
    expect(answered.result).toBe('ok');
    expect(portOf(answered)).toBe(call.ports.offerer!.rtpPort);
    expect(call.peer('answerer')).toMatchObject({ address: AGENT, port: 4000 });
    expect(binding.calls.get(call.callId)?.state).toBe('bridged');
  });

  it('never puts the SIP Call-ID in what the registry sees', async () => {
    const { relay, binding, offer } = setup();
    await offer({ 'call-id': 'sip:+15551234567@pbx.example.com' });
    expect(relay.opened[0].callId).not.toContain('5551234567');
    expect([...binding.calls.keys()].join()).not.toContain('5551234567');
  });

  it('keeps the ports across re-INVITEs from either side, and passes hold through', async () => {
    const { relay, offer, answer } = setup();
    const first = portOf(await offer({ 'via-branch': 'z9hG4bK-1' }));
    const back = portOf(await answer());
    // A re-INVITE from the caller: in-dialog, so a new via-branch but the to-tag of the answer.
    const hold = await offer({ 'via-branch': 'z9hG4bK-2', 'to-tag': 'B', sdp: phoneSdp(CALLER, 2000, ['a=sendonly']) });
    expect(portOf(hold)).toBe(first);
    expect(sdpOf(hold).media[0].direction).toBe('sendonly');
    expect(relay.opened).toHaveLength(1);
    expect(relay.opened[0].peer('offerer')?.direction).toBe('sendonly');
    expect(portOf(await answer({ sdp: phoneSdp(AGENT, 4000, ['a=recvonly']) }))).toBe(back);
    // A re-INVITE from the agent's side: its tag is now the offering one.
    const fromAgent = await offer({ 'from-tag': 'B', 'to-tag': 'A', sdp: phoneSdp(AGENT, 4002, ['a=inactive']) });
    expect(portOf(fromAgent)).toBe(back);
    expect(relay.opened[0].peer('answerer')).toMatchObject({ port: 4002, direction: 'inactive' });
    const reply = await answer({ 'from-tag': 'B', 'to-tag': 'A', sdp: phoneSdp(CALLER, 2002, ['a=inactive']) });
    expect(portOf(reply)).toBe(first);
    expect(relay.opened[0].peer('offerer')).toMatchObject({ port: 2002, direction: 'inactive' });
  });

  it('takes early media (an answer for a 183) and then the 200 on the same ports', async () => {
    const { relay, offer, answer } = setup();
    await offer();
    const early = await answer({ sdp: phoneSdp(AGENT, 4000, ['a=sendonly']) });
    const final = await answer({ sdp: phoneSdp(AGENT, 4000) });
    expect(portOf(final)).toBe(portOf(early));
    expect(relay.opened).toHaveLength(1);
    expect(relay.opened[0].peer('answerer')?.direction).toBe('sendrecv');
  });

  it('gives each via-branch of a fork its own relay call, answered separately; delete of one branch leaves the rest', async () => {
    const { relay, offer, answer, send } = setup();
    const one = await offer({ 'via-branch': 'b1' });
    const two = await offer({ 'via-branch': 'b2' });
    expect(relay.opened).toHaveLength(2);
    expect(relay.opened[0].options.branch).toBeUndefined();
    expect(relay.opened[1].options).toMatchObject({ callId: relay.opened[0].callId, branch: 'b2' });
    expect(portOf(one)).not.toBe(portOf(two));
    const a2 = await answer({ 'via-branch': 'b2', 'to-tag': 'B2', sdp: phoneSdp(AGENT, 4100) });
    expect(portOf(a2)).toBe(relay.opened[1].ports.offerer!.rtpPort);
    expect(relay.opened[1].peer('answerer')?.port).toBe(4100);
    expect(relay.opened[0].peer('answerer')).toBeUndefined();
    expect((await send({ command: 'delete', 'call-id': 'call-1', 'from-tag': 'A', 'via-branch': 'b1' })).result).toBe('ok');
    expect(relay.opened[0].closedWith).toBe('deleted');
    expect(relay.opened[1].closedWith).toBeUndefined();
    expect((await send({ command: 'query', 'call-id': 'call-1' })).result).toBe('ok');
  });

  it('frees a fork that lost once media flows on the winner', async () => {
    const { relay, sessions, offer, answer } = setup();
    await offer({ 'via-branch': 'b1' });
    await offer({ 'via-branch': 'b2' });
    await answer({ 'via-branch': 'b2', 'to-tag': 'B2' });
    relay.opened[0].idle = 61_000;
    relay.opened[1].idle = 20;
    sessions.sweep();
    expect(relay.opened[0].closedWith).toBe('fork_lost');
    expect(relay.opened[1].closedWith).toBeUndefined();
  });

  it('delete (BYE, CANCEL, failure) frees the call and its ports; an unknown call gets ok with a warning, or an error with fatal', async () => {
    const { relay, binding, offer, answer, send, ended } = setup();
    await offer();
    await answer();
    const reply = await send({ command: 'delete', 'call-id': 'call-1', 'from-tag': 'A' });
    expect(reply.result).toBe('ok');
    expect(reply.totals).toEqual({ RTP: { packets: 0, bytes: 0, errors: 0 }, RTCP: { packets: 0, bytes: 0, errors: 0 } });
    expect(relay.live()).toHaveLength(0);
    expect(relay.totals().ports).toBe(0);
    expect([...binding.calls.values()][0]).toMatchObject({ state: 'ended', endReason: 'deleted' });
    expect(ended).toEqual(['deleted']);
    expect(await send({ command: 'delete', 'call-id': 'call-1', 'from-tag': 'A' })).toEqual(expect.objectContaining({ result: 'ok', warning: "Call-ID not found or tags didn't match" }));
    expect(await send({ command: 'delete', 'call-id': 'call-1', flags: ['fatal'] })).toEqual(expect.objectContaining({ result: 'error', 'error-reason': "Call-ID not found or tags didn't match" }));
    await offer({ 'call-id': 'call-2' });
    expect((await send({ command: 'delete', 'call-id': 'call-2', 'from-tag': 'someone-else' })).warning).toBeDefined();
    expect(Object.keys(await send({ command: 'delete', 'call-id': 'call-2', flags: ['fast'] }))).toEqual(['result']);
  });

  it('query reports totals as Kamailio reads them; unknown calls and answers are errors', async () => {
    const { relay, offer, answer, send } = setup();
    expect(await send({ command: 'query', 'call-id': 'nope' })).toEqual(expect.objectContaining({ result: 'error', 'error-reason': 'Unknown call-id' }));
    expect((await answer({ 'call-id': 'nope' }))['error-reason']).toBe('Unknown call-id');
    await offer();
    await answer();
    relay.opened[0].packets = { offerer: 10, answerer: 5 };
    const query = await send({ command: 'query', 'call-id': 'call-1' });
    expect(query).toMatchObject({ result: 'ok', totals: { RTP: { packets: 15, bytes: 15 * 172, errors: 0 } }, tags: { A: { tag: 'A' }, B: { tag: 'B', 'in dialogue with': 'A' } } });
  });

  it('frees a call whose media stopped for timeoutMs, an unanswered offer or a held call after silentTimeoutMs', async () => {
    const { relay, sessions, offer, answer, advance, ended } = setup();
    await offer();
    await answer();
    relay.opened[0].idle = 59_000;
    sessions.sweep();
    expect(relay.opened[0].closedWith).toBeUndefined();
    relay.opened[0].idle = 60_000;
    sessions.sweep();
    expect(relay.opened[0].closedWith).toBe('media_timeout');

    await offer({ 'call-id': 'ringing' });
    advance(3_599_000);
    sessions.sweep();
    expect(relay.opened[1].closedWith).toBeUndefined();
    advance(1_000);
    sessions.sweep();
    expect(relay.opened[1].closedWith).toBe('offer_timeout');

    await offer({ 'call-id': 'held', sdp: phoneSdp(CALLER, 2000, ['a=sendonly']) });
    await answer({ 'call-id': 'held', sdp: phoneSdp(AGENT, 4000, ['a=recvonly']) });
    relay.opened[2].idle = 120_000;
    sessions.sweep();
    expect(relay.opened[2].closedWith).toBeUndefined();
    expect(ended).toEqual(['media_timeout', 'offer_timeout']);
  });

  it('answers "Ran out of ports" when the relay has none, and holds nothing for that call', async () => {
    const { relay, binding, offer } = setup({ low: 40000, high: 40001 });
    expect((await offer()).result).toBe('ok');
    const refused = await offer({ 'call-id': 'call-2' });
    expect(refused).toEqual(expect.objectContaining({ result: 'error', 'error-reason': 'Ran out of ports' }));
    expect(relay.opened[1].closedWith).toBe('no_ports');
    expect([...binding.calls.values()][1].state).toBe('ended');
  });

  it('takes the callee as the caller when the offer came in a 200 (late offer), unless told otherwise', async () => {
    const { relay, offer } = setup();
    await offer({ 'sip-message-type': 'sip_reply' });
    await offer({ 'call-id': 'c2', 'sip-message-type': 'sip_reply', flags: ['toneguard-caller=offerer'] });
    await offer({ 'call-id': 'c3', 'rtpp-flags': 'toneguard-caller=answerer' });
    expect(relay.opened.map((c) => c.options.caller)).toEqual(['answerer', 'offerer', 'answerer']);
  });

  it('binds the agent from an answer too (the PBX names who picked up in its 200)', async () => {
    const { relay, binding, offer, answer } = setup();
    await offer();
    expect(binding.calls.get(relay.opened[0].callId)?.agentId).toBeUndefined();
    await answer({ 'rtpp-flags': 'toneguard-agent=bob' });
    expect(binding.calls.get(relay.opened[0].callId)?.agentId).toBe('bob');
  });

  it('keeps rtcp-mux only when offered and accepted', async () => {
    const { relay, offer, answer } = setup();
    const offered = await offer({ sdp: phoneSdp(CALLER, 2000, ['a=rtcp-mux']) });
    expect(sdpOf(offered).media[0].rtcpMux).toBe('rtcp-mux');
    expect(sdpOf(offered).media[0].rtcp?.port).toBe(portOf(offered));
    const answered = await answer();
    expect(sdpOf(answered).media[0].rtcpMux).toBeUndefined();
    expect(relay.opened[0].peer('offerer')?.rtcpMux).toBe(false);
    expect(sdpOf(answered).media[0].rtcp?.port).toBe(relay.opened[0].ports.offerer!.rtcpPort);
  });

  it('refuses SDP it cannot relay, and tags it does not know', async () => {
    const { offer, answer } = setup();
    expect((await offer({ sdp: 'garbage' }))['error-reason']).toBe('Failed to parse SDP');
    expect((await offer({ sdp: phoneSdp(CALLER, 2000).replace('RTP/AVP', 'RTP/SAVP') }))['error-reason']).toMatch(/No audio stream/);
    await offer();
    expect((await offer({ 'from-tag': 'X', 'to-tag': 'Y' }))['error-reason']).toBe('Unknown tag for this call-id');
    expect((await answer({ 'from-tag': 'X' }))['error-reason']).toMatch(/Unknown tag/);
  });

  it('runs one call\'s commands in order even when they arrive together', async () => {
    const { relay, offer } = setup();
    const replies = await Promise.all([offer({ 'via-branch': 'b1' }), offer({ 'via-branch': 'b1' }), offer({ 'via-branch': 'b2' })]);
    expect(replies.map((r) => r.result)).toEqual(['ok', 'ok', 'ok']);
    expect(relay.opened).toHaveLength(2);
    expect(portOf(replies[0])).toBe(portOf(replies[1]));
  });

  it('closeAll ends every call (shutdown)', async () => {
    const { relay, sessions, offer } = setup();
    await offer();
    await offer({ 'call-id': 'c2' });
    sessions.closeAll();
    expect(relay.live()).toHaveLength(0);
    expect(sessions.size).toBe(0);
  });
});
