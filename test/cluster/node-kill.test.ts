// slow: real services (three node processes, PostgreSQL, Redis; one node SIGKILLed mid-capture)
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/chain.js';
import { keypadTones, syntheticSpeech, waitFor, type SimulatedCall } from '../helpers/twilio.js';
import { detokenizeVia } from '../helpers/detokenize.js';
import { agentApi, dialVia, enrollClusterProcessor, metric, openEvents, pause, streamNode } from './calls.js';
import { CLUSTER_PUBLIC_URL, startCluster, type ClusterNode, type TestCluster } from './harness.js';

const PAN = '4111111111111111';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startCluster({ nodes: 3, label: 'nodekill' });
});

afterAll(() => cluster?.close());

async function auditRecords(): Promise<AuditRecord[]> {
  const client = new pg.Client({ connectionString: cluster.database.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ record: AuditRecord }>('SELECT record FROM audit_records ORDER BY seq');
    return rows.map((r) => r.record);
  } finally {
    await client.end();
  }
}

/** Dials through rotating nodes until one call is pinned to each node (the least-loaded pick spreads them). */
async function oneCallPerNode(): Promise<Map<string, SimulatedCall>> {
  const byNode = new Map<string, SimulatedCall>();
  const extra: SimulatedCall[] = [];
  for (let i = 0; byNode.size < cluster.nodes.length && i < 12; i++) {
    const call = await dialVia(cluster, cluster.nodes[i % cluster.nodes.length]);
    const node = streamNode(cluster, call.caller)?.id ?? '';
    if (byNode.has(node)) extra.push(call);
    else byNode.set(node, call);
    await pause(300);
  }
  await Promise.all(extra.map((call) => call.hangUp()));
  expect(byNode.size).toBe(cluster.nodes.length);
  return byNode;
}

/** Caller audio on a call that is not part of the failure: speech both ways, then a whole card capture. */
async function undisturbedCapture(call: SimulatedCall, via: ClusterNode, token: string): Promise<string> {
  const api = agentApi(via, token);
  const view = await api.startCapture(call.callId, ['card_number', 'expiry', 'cvv']);
  await call.callerPlays(keypadTones(`${PAN}#1230737`));
  return (await waitFor(async () => {
    const now = await api.view(view.id);
    return now.state !== 'active' && now.state !== 'tokenizing' ? now : undefined;
  }, 20_000)).state;
}

describe('a node SIGKILLed in the middle of a card number', () => {
  it('the call moves to a live node, the capture resumes at the field in progress, the agent on a third node sees it resumed; nothing completed is lost; other calls notice nothing', async () => {
    const puller = await enrollClusterProcessor(cluster);
    const token = await cluster.agentToken();
    const calls = await oneCallPerNode();
    const [owner, watcher, bystander] = cluster.nodes;
    const call = calls.get(owner.id) as SimulatedCall;
    const others = [...calls.entries()].filter(([id]) => id !== owner.id).map(([, c]) => c);

    // The agent watches from a node that does not carry the call, and drives the capture through yet another.
    const events = await openEvents(watcher, token);
    const api = agentApi(bystander, token);
    const started = await api.startCapture(call.callId, ['expiry', 'card_number', 'cvv']);
    await call.callerPlays(keypadTones('1230'));
    await call.callerPlays(keypadTones(PAN.slice(0, 8)));
    await waitFor(async () => (await api.view(started.id)).fields.find((f) => f.name === 'card_number')?.digitCount === 8);

    // The other calls keep talking through the failure.
    const framesBefore = await Promise.all(others.map((c) => c.agent.receivedAudio().length));
    const talking = others.map((c) => c.callerPlays(syntheticSpeech(4000, 5)));

    await cluster.kill(owner);
    // Twilio sees both streams drop and requests the <Connect> action URL: a live node answers with a stream to a live node.
    await call.streamed(2);
    const moved = streamNode(cluster, call.caller);
    expect(moved?.id).not.toBe(owner.id);
    expect(streamNode(cluster, call.agent)?.id, 'both legs on the new node').toBe(moved?.id);
    expect(call.caller.open && call.agent.open).toBe(true);
    const resumed = await waitFor(async () => {
      const view = await api.view(started.id).catch(() => undefined);
      return view?.resumedAt ? view : undefined;
    }, 20_000);
    expect(resumed.state).toBe('active');
    // The completed field was kept; the card number's eight digits were only in the dead node's memory.
    expect(resumed.fields.map((f) => [f.name, f.state, f.digitCount])).toEqual([
      ['expiry', 'complete', 4],
      ['card_number', 'capturing', 0],
      ['cvv', 'pending', 0],
    ]);
    expect(resumed.currentField).toBe('card_number');

    // The caller keys the card number again, then the CVV.
    await call.callerPlays(keypadTones(`${PAN}#737`));
    const done = await waitFor(async () => {
      const view = await api.view(started.id);
      return view.state !== 'active' && view.state !== 'tokenizing' ? view : undefined;
    }, 20_000);
    expect(done.state).toBe('complete');
    const read = await detokenizeVia(watcher.url, CLUSTER_PUBLIC_URL, puller, done.result?.token ?? '');
    expect(read.status).toBe(200);
    expect(read.body.fields?.card_number).toBe(PAN);
    expect(read.body.fields?.expiry).toBe('1230');

    // The agent on the third node saw the capture resumed, and never a digit.
    await waitFor(() => events.captureViews(started.id).some((v) => v.state === 'complete'));
    const seen = events.captureViews(started.id);
    expect(seen.some((v) => v.resumedAt !== undefined && v.state === 'active')).toBe(true);
    expect(JSON.stringify(events.events)).not.toContain(PAN);
    events.close();

    // Calls on the other nodes went on: their audio kept flowing through the failure and their captures complete.
    await Promise.all(talking);
    const framesAfter = others.map((c) => c.agent.receivedAudio().length);
    for (const [i, after] of framesAfter.entries()) expect(after - framesBefore[i], 'audio kept flowing').toBeGreaterThanOrEqual(4000 * 8 * 0.9);
    for (const c of others) expect(streamNode(cluster, c.caller)?.id).not.toBe(owner.id);
    expect(await Promise.all(others.map((c, i) => undisturbedCapture(c, i === 0 ? watcher : bystander, token)))).toEqual(['complete', 'complete']);

    // No audit record of a completed step is lost: the start (recorded by the dead node), the completion, the tokenization; the chain verifies.
    const records = (await auditRecords()).filter((r) => r.resource?.id === started.id || r.details?.captureId === started.id);
    const actions = records.map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['capture.started', 'capture.resumed', 'capture.completed']));
    expect(actions.indexOf('capture.started')).toBeLessThan(actions.indexOf('capture.resumed'));
    const verified = await cluster.cli(['audit', 'verify']);
    expect(verified.status, verified.stderr).toBe(0);
    expect(JSON.stringify(await auditRecords())).not.toContain(PAN);

    await Promise.all([call, ...others].map((c) => c.hangUp()));
  });
});
