import bencode from 'bencode';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/audit/logger.js';
import { Metrics } from '../../../src/audit/metrics.js';
import { MemoryAuditSink } from '../../../src/audit/types.js';
import type { CaptureService } from '../../../src/capture/types.js';
import { deepMerge, parseConfig } from '../../../src/config/index.js';
import { MemoryCallRegistry } from '../../../src/state/calls.js';
import { startSipMode, type SipMode } from '../../../src/telephony/sip/index.js';
import { FakeRelay, phoneSdp } from './fakes.js';
import { decodeReply, NgClient } from './ng-client.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

async function sipMode(ng: Record<string, unknown> = {}) {
  const config = parseConfig(deepMerge({ sip: { ng: { listen: 'udp:127.0.0.1:0' } } }, { sip: { ng } }));
  const audit = new MemoryAuditSink();
  const metrics = new Metrics();
  const calls = new MemoryCallRegistry();
  const relay = new FakeRelay();
  const captures = { endCall: () => undefined } as unknown as CaptureService;
  const mode: SipMode = await startSipMode({ context: { config, logger: createLogger({ level: 'silent' }), audit, metrics, calls, captures }, relay });
  open.push(mode);
  const client = await NgClient.open(mode.ngAddress.port);
  open.push(client);
  const count = async (name: string) => (await metrics.registry.getSingleMetric(name)?.get())?.values ?? [];
  return { mode, client, audit, metrics, calls, relay, count };
}

const offer = { command: 'offer', 'call-id': 'c-1', 'from-tag': 'A', sdp: phoneSdp('192.0.2.10', 2000), 'toneguard-agent': 'alice' };

describe('the ng control socket (real UDP on an ephemeral port)', () => {
  it('answers ping with pong, in bencode and in JSON', async () => {
    const { client } = await sipMode();
    expect(await client.command('0_1804289383_17', { command: 'ping' })).toEqual({ result: 'pong' });
    const json = await client.sendRaw(Buffer.from('j1 {"command":"ping"}'), 'j1');
    expect(json?.toString()).toBe('j1 {"result":"pong"}');
  });

  it('gives a retransmission (same cookie) the identical reply without running the command twice', async () => {
    const { client, relay, calls } = await sipMode();
    const bytes = Buffer.concat([Buffer.from('7_42_1 '), Buffer.from(bencode.encode(offer))]);
    const [first, second] = await Promise.all([client.sendRaw(bytes, '7_42_1'), client.sendRaw(bytes, '7_42_1')]);
    const third = await client.sendRaw(bytes, '7_42_1');
    expect(first).toEqual(second);
    expect(first).toEqual(third);
    expect(relay.opened).toHaveLength(1);
    expect(decodeReply(first!).result).toBe('ok');
    expect(calls.list()).toEqual([expect.objectContaining({ agentId: 'alice', state: 'ringing' })]);
  });

  it('answers undecodable documents with an error under their cookie, drops datagrams without one, and counts both', async () => {
    const { client, count } = await sipMode();
    expect(decodeReply((await client.sendRaw(Buffer.from('c1 garbage'), 'c1'))!)).toEqual({ result: 'error', 'error-reason': 'Invalid NG data format' });
    expect(decodeReply((await client.sendRaw(Buffer.from('c2 d1:al-3:ee'), 'c2'))!)['error-reason']).toBe('Could not decode dictionary');
    expect(await client.command('c3', { command: 'list' })).toEqual({ result: 'error', 'error-reason': 'Unrecognized command' });
    expect(await client.command('c4', { command: 'offer', 'call-id': 'x' })).toEqual({ result: 'error', 'error-reason': 'No SDP body in message' });
    expect(await client.sendRaw(Buffer.from('d7:command4:pinge'), '', 300)).toBeUndefined();
    expect(await client.command('c5', { command: 'ping' })).toEqual({ result: 'pong' });
    expect(await count('toneguard_sip_ng_dropped_total')).toEqual([expect.objectContaining({ labels: { reason: 'no_cookie' }, value: 1 })]);
    const answered = await count('toneguard_sip_ng_messages_total');
    expect(answered.find((v) => v.labels.command === 'invalid' && v.labels.result === 'error')?.value).toBe(3);
  });

  it('drops, counts and audits a message from an address not on the allow-list', async () => {
    const { client, audit, count, relay } = await sipMode({ allowFrom: ['10.9.9.9'] });
    expect(await client.command('n1', offer, 300)).toBeUndefined();
    expect(relay.opened).toHaveLength(0);
    expect(await count('toneguard_sip_ng_dropped_total')).toEqual([expect.objectContaining({ labels: { reason: 'not_allowed' }, value: 1 })]);
    expect(audit.events).toEqual([expect.objectContaining({ action: 'sip.ng_refused', outcome: 'denied', source: '127.0.0.1', details: { reason: 'not_allowed' } })]);
  });

  it('obeys an allowed address, and only loopback when the allow-list is empty', async () => {
    const allowed = await sipMode({ allowFrom: ['127.0.0.1'] });
    expect(await allowed.client.command('a1', { command: 'ping' })).toEqual({ result: 'pong' });
  });

  it('frees a call whose media stopped for timeoutMs, with its ports, on its own', async () => {
    const config = { sip: { ng: { listen: 'udp:127.0.0.1:0' }, rtp: { timeoutMs: 1_000 } } };
    const relay = new FakeRelay();
    const calls = new MemoryCallRegistry();
    const mode = await startSipMode({
      context: { config: parseConfig(config), logger: createLogger({ level: 'silent' }), audit: new MemoryAuditSink(), metrics: new Metrics(), calls, captures: { endCall: () => undefined } as unknown as CaptureService },
      relay,
    });
    open.push(mode);
    const client = await NgClient.open(mode.ngAddress.port);
    open.push(client);
    await client.command('t1', offer);
    await client.command('t2', { command: 'answer', 'call-id': 'c-1', 'from-tag': 'A', 'to-tag': 'B', sdp: phoneSdp('198.51.100.20', 4000) });
    relay.opened[0].idle = 1_000;
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(relay.opened[0].closedWith).toBe('media_timeout');
    expect(calls.list()[0].state).toBe('ended');
    expect(await client.command('t3', { command: 'query', 'call-id': 'c-1' })).toEqual({ result: 'error', 'error-reason': 'Unknown call-id' });
  });
});
